import type { makeComplaintDecider } from '@crm/domain';
import type { EventStore } from '@crm/event-store';
import {
  ALL_PROJECTIONS, checkpointName, complaintsProjection, LeaseManager, ProjectionRunner, ServingReadModelStore, SLA_WATCHER_LEASE, type LeasedUnit, type LeaseStore,
  type Projection, type ReadModelStore, type RunnerOptions,
} from '@crm/read-models';
import { OwnerHandOver } from './owner-hand-over';
import { SlaWatcher } from './sla-watcher';

export interface ProjectorHostOptions {
  readonly events: EventStore;
  readonly readModels: ReadModelStore;
  readonly complaintDecider: ReturnType<typeof makeComplaintDecider>;
  readonly now: () => Date;
  readonly newEventId: (now: Date) => string;
  readonly projections?: readonly Projection[];
  readonly slaIntervalMs?: number;
  readonly handOverIntervalMs?: number;
  /** Tests drive the watcher (and the owner hand-over, which runs beside it) by hand. */
  readonly startSlaWatcher?: boolean;
  readonly runner?: RunnerOptions;
  readonly onBreach?: (kind: string) => void;
  readonly onEscalation?: (step: string, priority: string) => void;
  /** Run before each SLA watcher pass (SlaWatcherOptions.beforePass). */
  readonly beforeSlaPass?: () => Promise<void>;
  readonly logger?: { error(message: unknown): void; log(message: unknown): void };
  /**
   * Projector replicas: the projections and the SLA watcher run here only while this replica holds their lease
   * (LeaseManager). Without it, this process runs them all (the embedded mode: one projector, no leases).
   */
  readonly leases?: {
    readonly store: LeaseStore;
    readonly replicaId: string;
    readonly leaseMs?: number;
    readonly renewMs?: number;
    /** Milliseconds since the epoch (tests inject their clock). */
    readonly now?: () => number;
    /** Tests drive the passes by hand (`leaseManager.tick()`). */
    readonly manual?: boolean;
    /** See LeaseManagerOptions.peer (projector threads). */
    readonly peer?: (replicaId: string) => boolean;
  };
}

/**
 * The projector: every projection's runner plus the system's own writers, the SLA watcher and the owner hand-over.
 * Embedded in the API process or its own process.
 */
export class ProjectorHost {
  readonly runner: ProjectionRunner;
  readonly slaWatcher: SlaWatcher;
  readonly ownerHandOver: OwnerHandOver;
  /** The read models as queries must see them: logical names resolved to the build that serves. */
  readonly servingStore: ServingReadModelStore;
  /** With projector replicas: which projections (and whether the SLA watcher) run here. */
  readonly leaseManager: LeaseManager | undefined;
  private started = false;

  constructor(private readonly options: ProjectorHostOptions) {
    const projections = options.projections ?? ALL_PROJECTIONS;
    this.runner = new ProjectionRunner(options.events, options.readModels, projections, {
      logger: options.logger,
      ...options.runner,
      onFencedOff: (name) => {
        options.runner?.onFencedOff?.(name);
        void this.leaseManager?.lost(name);
      },
    });
    // The watcher reads the complaints board through the serving registry, so a blue/green switch is followed.
    this.servingStore = new ServingReadModelStore(options.readModels, this.runner.registry);
    this.slaWatcher = new SlaWatcher(options.events, this.servingStore, options.complaintDecider, {
      now: options.now,
      newEventId: options.newEventId,
      intervalMs: options.slaIntervalMs,
      logger: options.logger,
      onBreach: options.onBreach,
      onEscalation: options.onEscalation,
      beforePass: options.beforeSlaPass,
    });
    this.ownerHandOver = new OwnerHandOver(options.events, this.servingStore, {
      now: options.now,
      newEventId: options.newEventId,
      intervalMs: options.handOverIntervalMs,
      logger: options.logger,
      boardPosition: () => this.boardPosition(),
    });
    const leases = options.leases;
    if (leases) {
      const units: LeasedUnit[] = projections.map((p) => ({
        name: p.name,
        start: (token) => this.runner.startProjection(p.name, token),
        stop: () => this.runner.stopProjection(p.name),
      }));
      if (options.startSlaWatcher ?? true) {
        // One lease for both of the system's writers: each must run on one replica at a time, and neither is busy
        // enough to be worth a replica of its own (their appends are safe anyway when two overlap: expected revisions).
        units.push({
          name: SLA_WATCHER_LEASE,
          start: async (token) => {
            this.slaWatcher.start();
            this.ownerHandOver.start(token);
          },
          stop: async () => {
            await Promise.all([this.slaWatcher.stop(), this.ownerHandOver.stop()]);
          },
        });
      }
      this.leaseManager = new LeaseManager({ ...leases, units, logger: options.logger });
    }
  }

  async start(): Promise<void> {
    if (this.leaseManager) {
      await this.runner.start([]);
      if (!this.options.leases?.manual) this.leaseManager.start();
    } else {
      await this.runner.start();
      if (this.options.startSlaWatcher ?? true) {
        this.slaWatcher.start();
        this.ownerHandOver.start();
      }
    }
    this.started = true;
  }

  /** Stops everything; with leases, releases them so that the other replicas take over at once. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.leaseManager?.stop();
    await this.slaWatcher.stop();
    await this.ownerHandOver.stop();
    await this.runner.stop();
  }

  /** The position the complaints board reflects: the local runner's, else the serving build's stored checkpoint. */
  private async boardPosition(): Promise<number> {
    const local = this.runner.checkpointOf(complaintsProjection.name);
    if (local !== undefined) return local;
    await this.runner.registry.refreshIfStale();
    const serving = this.runner.registry.servingOf(complaintsProjection);
    return (await this.options.readModels.getCheckpoint(checkpointName(complaintsProjection, serving.generation, serving.version)))?.position ?? 0;
  }
}
