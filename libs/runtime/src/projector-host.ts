import type { makeComplaintDecider } from '@crm/domain';
import type { EventStore } from '@crm/event-store';
import {
  ALL_PROJECTIONS, ProjectionRunner, ServingReadModelStore, type Projection, type ReadModelStore, type RunnerOptions,
} from '@crm/read-models';
import { SlaWatcher } from './sla-watcher';

export interface ProjectorHostOptions {
  readonly events: EventStore;
  readonly readModels: ReadModelStore;
  readonly complaintDecider: ReturnType<typeof makeComplaintDecider>;
  readonly now: () => Date;
  readonly newEventId: (now: Date) => string;
  readonly projections?: readonly Projection[];
  readonly slaIntervalMs?: number;
  /** Tests drive the watcher by hand. */
  readonly startSlaWatcher?: boolean;
  readonly runner?: RunnerOptions;
  readonly onBreach?: (kind: string) => void;
  readonly logger?: { error(message: unknown): void; log(message: unknown): void };
}

/** The projector: every projection's runner plus the SLA watcher. Embedded in the API process or its own process. */
export class ProjectorHost {
  readonly runner: ProjectionRunner;
  readonly slaWatcher: SlaWatcher;
  /** The read models as queries must see them: logical names resolved to the build that serves. */
  readonly servingStore: ServingReadModelStore;
  private started = false;

  constructor(private readonly options: ProjectorHostOptions) {
    this.runner = new ProjectionRunner(options.events, options.readModels, options.projections ?? ALL_PROJECTIONS, {
      logger: options.logger,
      ...options.runner,
    });
    // The watcher reads the complaints board through the serving registry, so a blue/green switch is followed.
    this.servingStore = new ServingReadModelStore(options.readModels, this.runner.registry);
    this.slaWatcher = new SlaWatcher(options.events, this.servingStore, options.complaintDecider, {
      now: options.now,
      newEventId: options.newEventId,
      intervalMs: options.slaIntervalMs,
      logger: options.logger,
      onBreach: options.onBreach,
    });
  }

  async start(): Promise<void> {
    await this.runner.start();
    if (this.options.startSlaWatcher ?? true) this.slaWatcher.start();
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.slaWatcher.stop();
    await this.runner.stop();
  }
}
