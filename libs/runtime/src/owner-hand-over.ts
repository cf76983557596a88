import {
  complaintHandOverDecider, complaintStream, customerStream, evolveCustomer, handOverReason, initialCustomerState,
  type CustomerEvent, type CustomerOwnerAssigned,
} from '@crm/domain';
import { handleCommand, type EventMetadataFactory, type EventStore, type RecordedEvent } from '@crm/event-store';
import { COMPLAINTS, complaintsProjection, physicalCollection, type ReadModelStore } from '@crm/read-models';
import { domainEventMetadata } from './event-metadata';
import { RepeatingPass } from './repeating-pass';

/** The process's checkpoint in the read-model store: the last owner change it has finished with. */
export const OWNER_HAND_OVER_CHECKPOINT = 'process:owner-hand-over';
/** Who the moves are recorded as: a process, acting on the owner change named by each move's causationId. */
export const OWNER_HAND_OVER_ACTOR = { id: 'owner-hand-over', role: 'system' } as const;

export interface OwnerHandOverOptions {
  readonly now: () => Date;
  readonly newEventId: (now: Date) => string;
  /**
   * The log position the complaints board reflects (its serving build's checkpoint). An owner change is handled only
   * once the board has reached it, so every complaint filed before the change is on the board when it is asked.
   */
  readonly boardPosition: () => Promise<number>;
  readonly intervalMs?: number;
  /** Owner changes read per pass. */
  readonly batchSize?: number;
  readonly logger?: { error(message: unknown): void; log(message: unknown): void };
}

/** What an owner change asks of the process, or null when it asks nothing (any more). */
export interface HandOverPlan {
  readonly customerId: string;
  readonly ownerId: string;
  readonly reason: string;
}

/**
 * Decides from the customer's stream (read now, not as the change was logged) whether the owner change `change` is
 * still to be carried out: only if it asked to move the open work, is the customer's latest owner change (a later
 * one wins: it is handled in its turn and moves everything to its own owner), and the customer is not erased.
 */
export function planHandOver(customerEvents: readonly RecordedEvent[], change: RecordedEvent): HandOverPlan | null {
  let state = initialCustomerState();
  let latest: RecordedEvent | undefined;
  for (const e of customerEvents) {
    state = evolveCustomer(state, { type: e.type, data: e.data } as CustomerEvent);
    if (e.type === 'CustomerOwnerAssigned') latest = e;
  }
  if (!state.exists || state.erasedAt !== undefined || latest?.eventId !== change.eventId) return null;
  const data = change.data as CustomerOwnerAssigned['data'];
  if (data.moveOpenWork !== true) return null;
  return { customerId: data.customerId, ownerId: data.ownerId, reason: handOverReason(data.reason) };
}

/**
 * Whether someone reassigned the complaint by hand after the owner change at `changePosition` (the hand-over's own
 * moves do not count: a later owner change must still move what an earlier hand-over moved).
 */
export function reassignedByHandSince(complaintEvents: readonly RecordedEvent[], changePosition: number): boolean {
  return complaintEvents.some((e) => e.type === 'ComplaintOwnerChanged' && e.position > changePosition && !isHandOverMove(e));
}

function isHandOverMove(e: RecordedEvent): boolean {
  const actor = e.metadata['actor'] as { id?: unknown } | undefined;
  return actor?.id === OWNER_HAND_OVER_ACTOR.id;
}

/**
 * The owner hand-over process manager: reads the owner changes from the log in order, from its checkpoint, and moves
 * each changed customer's open complaints to the new owner (`ComplaintOwnerChanged` in each complaint's stream, with
 * the change's reason; the follow-ups moved in the change's own append).
 *
 * Exactly once per complaint without any memory of its own: each move is decided from the complaint's stream (already
 * with the new owner, closed, or reassigned by hand since → nothing) and appended at the revision that decision read,
 * so a second run, a resume after a crash half-way through a customer, or two replicas overlapping during a lease
 * hand-over each find the moves already made. The checkpoint only saves re-reading: it moves past a change once all
 * of its complaints are settled.
 */
export class OwnerHandOver {
  private readonly passes = new RepeatingPass(
    () => this.runOnce(),
    (error) => this.options.logger?.error({ msg: 'owner hand-over pass failed', error: String(error) }),
  );
  private fence: number | undefined;
  private readonly eventMetadata: EventMetadataFactory;

  constructor(
    private readonly events: EventStore,
    /** The read models as queries see them (logical names resolved to the serving build). */
    private readonly readModels: ReadModelStore,
    private readonly options: OwnerHandOverOptions,
  ) {
    this.eventMetadata = domainEventMetadata(options.newEventId);
  }

  /** Starts the passes; `fence`: the lease's token, carried by the checkpoint writes (a stale holder is refused). */
  start(fence?: number): void {
    this.fence = fence;
    this.passes.start(this.options.intervalMs ?? 1000);
  }

  async stop(): Promise<void> {
    await this.passes.stop();
  }

  /**
   * One pass: the owner changes after the checkpoint, in log order, up to the first one the board has not reached yet.
   * Returns the complaints moved. Public so tests can drive it. A failure (a complaint changed between read and
   * append, a store outage) ends the pass with the checkpoint at the last change finished; the next pass resumes there.
   */
  async runOnce(): Promise<{ moved: number; changes: number }> {
    const from = (await this.readModels.getCheckpoint(OWNER_HAND_OVER_CHECKPOINT))?.position ?? 0;
    const head = await this.events.headPosition();
    const batchSize = this.options.batchSize ?? 100;
    const changes = await this.events.readAll({ fromPosition: from, eventTypes: ['CustomerOwnerAssigned'], maxCount: batchSize });
    let checkpoint = from;
    let moved = 0;
    let handled = 0;
    try {
      for (const change of changes) {
        if ((change.data as CustomerOwnerAssigned['data']).moveOpenWork === true) {
          if ((await this.options.boardPosition()) < change.position) return { moved, changes: handled };
          const outcome = await this.handOver(change);
          moved += outcome.moved;
          if (!outcome.finished) return { moved, changes: handled };
        }
        checkpoint = change.position;
        handled += 1;
      }
      // Nothing more to hand over up to the head read before the batch: the next pass need not scan that stretch again.
      if (changes.length < batchSize) checkpoint = Math.max(checkpoint, head);
    } finally {
      if (checkpoint > from) await this.saveCheckpoint(checkpoint);
    }
    return { moved, changes: handled };
  }

  private async saveCheckpoint(position: number): Promise<void> {
    await this.readModels.saveCheckpoints([
      this.fence === undefined ? { projection: OWNER_HAND_OVER_CHECKPOINT, position } : { projection: OWNER_HAND_OVER_CHECKPOINT, position, fence: this.fence },
    ]);
  }

  /** Moves the open complaints of the customer whose owner changed; `finished` false when stopped half-way. */
  private async handOver(change: RecordedEvent): Promise<{ moved: number; finished: boolean }> {
    const { customerId } = change.data as CustomerOwnerAssigned['data'];
    const plan = planHandOver(await this.events.readStream(customerStream(customerId)), change);
    if (!plan) return { moved: 0, finished: true };
    // Every complaint not closed, filed before the change (the board has reached it) or after it with the old owner
    // read before the change (a filing racing it), which the decision moves like the others.
    const open = await this.readModels.find(
      physicalCollection(complaintsProjection, COMPLAINTS),
      { customerId, status: { $ne: 'closed' } },
      { sort: [['filedAt', 1]] },
    );
    let moved = 0;
    for (const doc of open) {
      // Stopping (the lease moved on, or shutdown): whoever runs next resumes this change from the checkpoint.
      if (this.passes.stopRequested) return { moved, finished: false };
      if (await this.moveComplaint(doc._id, plan, change)) moved += 1;
    }
    if (moved > 0) this.options.logger?.log({ msg: 'owner hand-over', customerId, ownerId: plan.ownerId, complaintsMoved: moved });
    return { moved, finished: true };
  }

  private async moveComplaint(complaintId: string, plan: HandOverPlan, change: RecordedEvent): Promise<boolean> {
    const streamId = complaintStream(complaintId);
    const recorded = await this.events.readStream(streamId);
    const revision = recorded.at(-1)?.revision;
    if (revision === undefined) return false;
    const now = this.options.now();
    const result = await handleCommand(this.events, complaintHandOverDecider, {
      streamId,
      command: {
        type: 'HandOverComplaint',
        data: { complaintId, ownerId: plan.ownerId, reason: plan.reason, reassignedSince: reassignedByHandSince(recorded, change.position) },
      },
      // The revision the "reassigned by hand since" answer was read at: a reassignment landing after it is refused
      // here (ExpectedRevisionMismatch) and the complaint is decided again next pass, never overridden.
      expectedRevision: revision,
      now: () => now,
      eventMetadata: this.eventMetadata,
      metadata: {
        correlationId: typeof change.metadata['correlationId'] === 'string' ? change.metadata['correlationId'] : change.eventId,
        causationId: change.eventId,
        actor: OWNER_HAND_OVER_ACTOR,
      },
    });
    return result.kind === 'appended';
  }
}
