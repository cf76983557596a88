import { complaintStream, type makeComplaintDecider } from '@crm/domain';
import { handleCommand, StreamVersionConflict, type EventMetadataFactory, type EventStore } from '@crm/event-store';
import { COMPLAINTS, complaintsProjection, physicalCollection, type ReadModelStore } from '@crm/read-models';
import { domainEventMetadata } from './event-metadata';

type ComplaintDecider = ReturnType<typeof makeComplaintDecider>;

export interface SlaWatcherOptions {
  readonly now: () => Date;
  readonly newEventId: (now: Date) => string;
  readonly intervalMs?: number;
  readonly batchSize?: number;
  readonly logger?: { error(message: unknown): void; log(message: unknown): void };
  readonly onBreach?: (kind: string) => void;
}

/**
 * Finds complaints whose next SLA deadline has passed (the complaints read model indexes `nextDueAt`) and asks the
 * complaint decider to record the breach. The decider re-checks against the stream, and the append carries the
 * stream's revision: a response that lands first wins (the decider then returns nothing, or the append conflicts and
 * is decided again on the new state), and a restart never breaches twice (the breach is in the stream's state).
 * Imported complaints with past deadlines breach on their own timeline: `breachedAt` is the deadline, not now.
 */
export class SlaWatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Complaints checked with no breach due, by read-model position: not asked again until their document changes. */
  private readonly settled = new Map<string, number>();
  private readonly eventMetadata: EventMetadataFactory;

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly decider: ComplaintDecider,
    private readonly options: SlaWatcherOptions,
  ) {
    this.eventMetadata = domainEventMetadata(options.newEventId);
  }

  /** Starts the passes (again after a stop: a replica that takes the SLA watcher's lease back). */
  start(): void {
    this.stopped = false;
    const interval = this.options.intervalMs ?? 1000;
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.checkOnce()
        .catch((error: unknown) => this.options.logger?.error({ msg: 'SLA watcher pass failed', error: String(error) }))
        .then(() => {
          if (!this.stopped) this.timer = setTimeout(tick, interval);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass; returns the number of breaches appended. Public so tests can drive it with their clock. */
  async checkOnce(): Promise<number> {
    const now = this.options.now();
    const due = await this.readModels.find(
      physicalCollection(complaintsProjection, COMPLAINTS),
      { nextDueAt: { $lte: now.toISOString() } },
      { sort: [['nextDueAt', 1]], limit: this.options.batchSize ?? 200 },
    );
    let breaches = 0;
    for (const doc of due) {
      if (this.settled.get(doc._id) === doc._position) continue;
      const deadline = doc['nextDeadline'] as { kind: 'first-response' | 'resolution' } | null;
      if (!deadline) continue;
      try {
        const result = await handleCommand(this.events, this.decider, {
          streamId: complaintStream(doc._id),
          command: { type: 'RecordSlaBreach', data: { complaintId: doc._id, kind: deadline.kind } },
          now: () => now,
          eventMetadata: this.eventMetadata,
          metadata: {
            correlationId: `sla-${doc._id}`,
            causationId: `sla-watcher:${doc._id}:${deadline.kind}`,
            actor: { id: 'sla-watcher', role: 'system' },
            occurredAt: typeof doc['nextDueAt'] === 'string' ? doc['nextDueAt'] : undefined,
          },
        });
        if (result.kind === 'appended') {
          breaches += 1;
          this.options.onBreach?.(deadline.kind);
        } else {
          this.settled.set(doc._id, doc._position);
        }
      } catch (error) {
        if (error instanceof StreamVersionConflict) continue; // the stream keeps changing: next pass
        throw error;
      }
    }
    return breaches;
  }
}
