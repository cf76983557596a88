import { Inject, Injectable, Logger } from '@nestjs/common';
import { customerStream, DomainError, mergePartyOf, type CustomerCommand, type CustomerState } from '@crm/domain';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { CLOCK, CUSTOMER_DECIDER, type Clock, type CustomerDecider, uuidv7 } from '@crm/runtime';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../commands/command-executor';
import { problems } from '../http/problem';

/** Who completes a merge or unmerge that a crash or a refusal left half done (the actor of the events it appends). */
export const MERGE_RESUMER = { id: 'merge-resume', role: 'system' } as const;

interface Pair {
  readonly survivorId: string;
  readonly duplicateId: string;
  readonly survivor: CustomerState;
  readonly duplicate: CustomerState;
}

const named = (state: CustomerState, survivorId: string): boolean => state.exists && state.mergedInto === survivorId;
const lists = (state: CustomerState, duplicateId: string): boolean => state.exists && (state.duplicates ?? []).includes(duplicateId);

/**
 * Merge and unmerge touch two streams, which no event store here appends atomically (EventStoreDB has no
 * multi-stream transaction). So the duplicate's stream goes first, with its expected revision, then the survivor's:
 *  - merge: CustomerMergedInto (the duplicate takes no more commands), then CustomerMerged (read models alias it).
 *    If the survivor refuses its step (it was merged away or erased meanwhile), CustomerUnmergedFrom undoes the first.
 *  - unmerge: CustomerUnmergedFrom, then CustomerUnmerged.
 * Half done, the two look different (duplicate names a survivor that does not list it / survivor lists a duplicate
 * that no longer names it), so a retry of the request, or `resumeInterrupted` at every start, finishes either one.
 * Each step is decided by that stream's own decider on its current state, so two racing merges cannot build a chain.
 */
@Injectable()
export class MergeCustomersService {
  private readonly logger = new Logger('CustomerMerge');

  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CUSTOMER_DECIDER) private readonly customers: CustomerDecider,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async merge(survivorId: string, duplicateId: string, reason: string, ctx: CommandContext): Promise<CommandOutcome> {
    const pair = await this.load(survivorId, duplicateId, ctx);
    // A half-done merge of this very pair is completed, not refused as "already merged".
    if (!(named(pair.duplicate, survivorId) && !lists(pair.survivor, duplicateId))) {
      await this.run(duplicateId, { type: 'MarkMergedInto', data: {
        customerId: duplicateId, survivorId, reason, survivor: mergePartyOf(survivorId, pair.survivor),
      } }, ctx, false);
    }
    return this.completeMerge(survivorId, duplicateId, reason, ctx);
  }

  async unmerge(survivorId: string, duplicateId: string, reason: string, ctx: CommandContext): Promise<CommandOutcome> {
    const pair = await this.load(survivorId, duplicateId, ctx);
    if (!(lists(pair.survivor, duplicateId) && !named(pair.duplicate, survivorId) && pair.duplicate.exists)) {
      await this.run(duplicateId, { type: 'MarkUnmergedFrom', data: {
        customerId: duplicateId, survivorId, reason, survivor: mergePartyOf(survivorId, pair.survivor),
      } }, ctx, false);
    }
    const { state: duplicate } = await this.executor.load(customerStream(duplicateId), this.customers);
    return this.run(survivorId, { type: 'UnmergeDuplicate', data: {
      customerId: survivorId, duplicateId, reason, duplicate: mergePartyOf(duplicateId, duplicate),
    } }, ctx, true);
  }

  /**
   * Finishes every merge and unmerge a crash left half done; safe on several replicas at once (each step is refused
   * once done). Reads only the duplicates' merge events, so it is cheap at every start.
   */
  async resumeInterrupted(): Promise<Array<{ survivorId: string; duplicateId: string; completed: 'merge' | 'unmerge' | 'abandoned' }>> {
    // The last step of each pair, whose reason the completing step repeats (the request's own reason).
    const pairs = new Map<string, { survivorId: string; duplicateId: string; reason: string }>();
    for (const e of await this.events.readAll({ eventTypes: ['CustomerMergedInto', 'CustomerUnmergedFrom'] })) {
      const data = e.data as { customerId: string; survivorId: string; reason: string };
      pairs.set(`${data.customerId}\u0000${data.survivorId}`, { survivorId: data.survivorId, duplicateId: data.customerId, reason: data.reason });
    }
    const done: Array<{ survivorId: string; duplicateId: string; completed: 'merge' | 'unmerge' | 'abandoned' }> = [];
    for (const { survivorId, duplicateId, reason } of pairs.values()) {
      const id = uuidv7(this.clock.now().getTime());
      const ctx: CommandContext = { principal: MERGE_RESUMER, correlationId: id, causationId: id };
      try {
        const { state: survivor } = await this.executor.load(customerStream(survivorId), this.customers);
        const { state: duplicate } = await this.executor.load(customerStream(duplicateId), this.customers);
        if (named(duplicate, survivorId) && !lists(survivor, duplicateId)) {
          const abandoned = await this.completeMerge(survivorId, duplicateId, reason, ctx)
            .then(() => false, (error: unknown) => { if (error instanceof DomainError) return true; throw error; });
          done.push({ survivorId, duplicateId, completed: abandoned ? 'abandoned' : 'merge' });
        } else if (lists(survivor, duplicateId) && !named(duplicate, survivorId)) {
          await this.run(survivorId, { type: 'UnmergeDuplicate', data: {
            customerId: survivorId, duplicateId, reason, duplicate: mergePartyOf(duplicateId, duplicate),
          } }, ctx, false);
          done.push({ survivorId, duplicateId, completed: 'unmerge' });
        } else {
          continue;
        }
        this.logger.warn({ msg: 'completed a half-done customer merge step', survivorId, duplicateId, completed: done.at(-1)?.completed });
      } catch (error) {
        this.logger.error({ msg: 'could not complete a half-done customer merge step; retried at the next start', survivorId, duplicateId, error: String(error) });
      }
    }
    return done;
  }

  /** The survivor's step; when the survivor refuses it, the duplicate's step is undone so nothing stays half done. */
  private async completeMerge(survivorId: string, duplicateId: string, reason: string, ctx: CommandContext): Promise<CommandOutcome> {
    const { state: duplicate } = await this.executor.load(customerStream(duplicateId), this.customers);
    try {
      return await this.run(survivorId, { type: 'MergeDuplicate', data: {
        customerId: survivorId, duplicateId, reason, duplicate: mergePartyOf(duplicateId, duplicate),
      } }, ctx, true);
    } catch (refusal) {
      const { state: survivor } = await this.executor.load(customerStream(survivorId), this.customers);
      const { state: now } = await this.executor.load(customerStream(duplicateId), this.customers);
      // Only a refusal that left the survivor without the duplicate is compensated (another replica may have just
      // completed this very merge, which refuses ours as already merged).
      if (named(now, survivorId) && !lists(survivor, duplicateId)) {
        await this.run(duplicateId, { type: 'MarkUnmergedFrom', data: {
          customerId: duplicateId, survivorId, reason: `merge abandoned: ${refusal instanceof Error ? refusal.message : String(refusal)}`,
          survivor: mergePartyOf(survivorId, survivor), abandon: true,
        } }, { ...ctx, idempotency: undefined }, false);
      }
      throw refusal;
    }
  }

  private async load(survivorId: string, duplicateId: string, ctx: CommandContext): Promise<Pair> {
    const { state: survivor, revision } = await this.executor.load(customerStream(survivorId), this.customers);
    // If-Match names the survivor's revision; checked before the duplicate's stream is touched, so a stale client
    // appends nothing anywhere.
    if (ctx.expectedRevision !== undefined && survivor.exists && ctx.expectedRevision !== revision) {
      throw problems.preconditionFailed(`If-Match revision ${ctx.expectedRevision} is not the current revision of ${customerStream(survivorId)}`, revision);
    }
    if (!survivor.exists) {
      throw new DomainError('customer-not-found', `customer ${survivorId} does not exist`, { customerId: survivorId });
    }
    const { state: duplicate } = await this.executor.load(customerStream(duplicateId), this.customers);
    return { survivorId, duplicateId, survivor, duplicate };
  }

  /** `survivorStep`: the If-Match revision applies to the survivor's stream only. */
  private run(customerId: string, command: CustomerCommand, ctx: CommandContext, survivorStep: boolean): Promise<CommandOutcome> {
    const context: CommandContext = survivorStep ? ctx : { ...ctx, expectedRevision: undefined };
    return this.executor.execute({ streamId: customerStream(customerId), decider: this.customers, command, context });
  }
}
