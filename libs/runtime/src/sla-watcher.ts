import { complaintStream, type ComplaintCommand, type ComplaintEvent, type makeComplaintDecider } from '@crm/domain';
import { handleCommand, StreamVersionConflict, type EventMetadataFactory, type EventStore } from '@crm/event-store';
import { COMPLAINTS, complaintsProjection, physicalCollection, type ComplaintDoc, type ReadModelStore } from '@crm/read-models';
import { domainEventMetadata } from './event-metadata';
import { RepeatingPass } from './repeating-pass';

type ComplaintDecider = ReturnType<typeof makeComplaintDecider>;

export interface SlaWatcherOptions {
  readonly now: () => Date;
  readonly newEventId: (now: Date) => string;
  readonly intervalMs?: number;
  readonly batchSize?: number;
  readonly logger?: { error(message: unknown): void; log(message: unknown): void };
  readonly onBreach?: (kind: string) => void;
  /** A ComplaintEscalated appended by this watcher. */
  readonly onEscalation?: (step: string, priority: string) => void;
  /**
   * Before each pass: brings the SLA policy book up to the log, so that a complaint filed under a version published
   * moments ago (on another replica) is decided under that version, not under the fallback (the current one).
   */
  readonly beforePass?: () => Promise<void>;
}

/**
 * Finds complaints whose next SLA deadline has passed (the complaints read model indexes `nextDueAt`) and asks the
 * complaint decider to record the breach. The decider re-checks against the stream, and the append carries the
 * stream's revision: a response that lands first wins (the decider then returns nothing, or the append conflicts and
 * is decided again on the new state), and a restart never breaches twice (the breach is in the stream's state).
 * Imported complaints with past deadlines breach on their own timeline: `breachedAt` is the deadline, not now.
 */
export class SlaWatcher {
  private readonly passes = new RepeatingPass(
    () => this.checkOnce(),
    (error) => this.options.logger?.error({ msg: 'SLA watcher pass failed', error: String(error) }),
  );
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
    this.passes.start(this.options.intervalMs ?? 1000);
  }

  async stop(): Promise<void> {
    await this.passes.stop();
  }

  /**
   * One pass; returns the number of breaches appended. Public so tests can drive it with their clock.
   * Besides breaches it records the escalation steps due and turns an inbound contact's resume request into a
   * ComplaintResumed (issue 16): all three go through the complaint decider with the stream's expected revision, so
   * a restart, a replayed request or a second watcher adds nothing.
   */
  async checkOnce(): Promise<number> {
    await this.options.beforePass?.();
    const now = this.options.now();
    const nowIso = now.toISOString();
    const due = (await this.readModels.find(
      physicalCollection(complaintsProjection, COMPLAINTS),
      { nextDueAt: { $lte: nowIso } },
      { sort: [['nextDueAt', 1]], limit: this.options.batchSize ?? 200 },
    )) as ComplaintDoc[];
    let breaches = 0;
    for (const doc of due) {
      if (this.settled.get(doc._id) === doc._position) continue;
      const deadline = doc.nextDeadline;
      const resumeRequest = doc.resumeRequest;
      const nextEscalation = doc.nextEscalationDueAt;
      let appended = false;
      try {
        if (resumeRequest && resumeRequest.occurredAt <= nowIso) {
          const command: ComplaintCommand = {
            type: 'ResumeComplaint',
            data: { complaintId: doc._id, reason: null, occurredAt: resumeRequest.occurredAt, trigger: 'inbound-contact', contactId: resumeRequest.contactId },
          };
          // The resume moves the deadlines: breaches and escalations wait for the board to show the moved ones.
          if ((await this.run(doc._id, command, now, `contact:${resumeRequest.contactId}`, resumeRequest.occurredAt)).length > 0) continue;
        }
        if (deadline && deadline.dueAt <= nowIso) {
          const command: ComplaintCommand = { type: 'RecordSlaBreach', data: { complaintId: doc._id, kind: deadline.kind } };
          if ((await this.run(doc._id, command, now, `sla-watcher:${doc._id}:${deadline.kind}`, deadline.dueAt)).length > 0) {
            appended = true;
            breaches += 1;
            this.options.onBreach?.(deadline.kind);
          }
        }
        if (typeof nextEscalation === 'string' && nextEscalation <= nowIso) {
          const command: ComplaintCommand = { type: 'RecordSlaEscalations', data: { complaintId: doc._id } };
          const events = await this.run(doc._id, command, now, `sla-watcher:${doc._id}:escalation`, nextEscalation);
          for (const event of events) {
            if (event.type === 'ComplaintEscalated') this.options.onEscalation?.(event.data.step, event.data.priority);
          }
          appended ||= events.length > 0;
        }
        if (!appended) this.settled.set(doc._id, doc._position);
      } catch (error) {
        if (error instanceof StreamVersionConflict) continue; // the stream keeps changing: next pass
        throw error;
      }
    }
    return breaches;
  }

  /** Decides and appends one command on the complaint's stream; returns the events appended (none when unchanged). */
  private async run(complaintId: string, command: ComplaintCommand, now: Date, causationId: string, occurredAt: string): Promise<ComplaintEvent[]> {
    let decided: ComplaintEvent[] = [];
    // The events of the decision that was appended (a conflict re-decides: the last decision is the one that counts).
    const capturing: ComplaintDecider = {
      ...this.decider,
      decide: (c, state, at) => (decided = this.decider.decide(c, state, at)),
    };
    const result = await handleCommand(this.events, capturing, {
      streamId: complaintStream(complaintId),
      command,
      now: () => now,
      eventMetadata: this.eventMetadata,
      metadata: {
        correlationId: `sla-${complaintId}`,
        causationId,
        actor: { id: 'sla-watcher', role: 'system' },
        occurredAt,
      },
    });
    return result.kind === 'appended' ? decided : [];
  }
}
