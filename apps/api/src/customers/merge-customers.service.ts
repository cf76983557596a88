import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { customerStream, DomainError, mergePartyOf, type CustomerCommand, type CustomerState } from '@crm/domain';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { READ_MODEL_STORE, type ReadModelStore } from '@crm/read-models';
import { CLOCK, CUSTOMER_DECIDER, type Clock, type CustomerDecider, uuidv7 } from '@crm/runtime';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../commands/command-executor';
import { problems } from '../http/problem';

/** Who completes a merge or unmerge that a crash or a refusal left half done (the actor of the events it appends). */
export const MERGE_RESUMER = { id: 'merge-resume', role: 'system' } as const;

/**
 * Where the last pass of `resumeInterrupted` left off, in the read-model store's checkpoints (shared by every replica):
 * every merge step up to it is complete, so the next pass (the next start of any replica) reads only the log after it.
 * Not a projection's name, so nothing that lists projections' checkpoints sees it.
 */
export const MERGE_RESUME_CHECKPOINT = 'resume:customer-merges';

const MERGE_STEP_TYPES = ['CustomerMergedInto', 'CustomerUnmergedFrom'];

/** The waits between failed passes of the background resume (the last one repeats). */
const RESUME_RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];

interface Pair {
  readonly survivorId: string;
  readonly duplicateId: string;
  readonly survivor: CustomerState;
  readonly duplicate: CustomerState;
}

/** The background resume: the pass in flight, or the wait before the next one. */
interface ResumeLoop {
  stopped: boolean;
  timer?: NodeJS.Timeout;
  pass?: Promise<unknown>;
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
export class MergeCustomersService implements OnModuleDestroy {
  private readonly logger = new Logger('CustomerMerge');
  private resuming?: ResumeLoop;

  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CUSTOMER_DECIDER) private readonly customers: CustomerDecider,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
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
   * Runs `resumeInterrupted` after the start, off the start's path: a replica listens at once, and a pass that fails
   * (the event store slow or restarting) is retried until one succeeds, instead of failing the start. A first pass
   * over a large log reads all of it once (the client filters $all), which must not hold up a replica nor end it.
   */
  resumeInBackground(): void {
    if (this.resuming) return;
    const state: ResumeLoop = { stopped: false };
    this.resuming = state;
    const attempt = (failures: number): void => {
      state.pass = this.resumeInterrupted().then(
        () => undefined,
        (error: unknown) => {
          if (state.stopped) return;
          const waitMs = RESUME_RETRY_MS[Math.min(failures, RESUME_RETRY_MS.length - 1)]!;
          this.logger.warn({ msg: 'could not look for half-done customer merges; trying again', waitMs, error: String(error) });
          state.timer = setTimeout(() => attempt(failures + 1), waitMs);
        },
      );
    };
    attempt(0);
  }

  /** Resolves when the background resume has no pass in flight (tests; a shutdown waits for it below). */
  async settled(): Promise<void> {
    await this.resuming?.pass;
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.resuming) return;
    this.resuming.stopped = true;
    clearTimeout(this.resuming.timer);
    await this.resuming.pass;
  }

  /**
   * Finishes every merge and unmerge a crash left half done; safe on several replicas at once (each step is refused
   * once done). Reads the duplicates' merge steps after MERGE_RESUME_CHECKPOINT only, and moves it past every pair it
   * found complete, so a pass costs the log written since the last one.
   */
  async resumeInterrupted(): Promise<Array<{ survivorId: string; duplicateId: string; completed: 'merge' | 'unmerge' | 'abandoned' }>> {
    const from = (await this.readModels.getCheckpoint(MERGE_RESUME_CHECKPOINT))?.position ?? 0;
    // Every position up to the head read first is committed, so a pass that reads past it has seen all of them.
    let scanned = await this.events.headPosition();
    // The last step of each pair, whose reason the completing step repeats (the request's own reason), and the
    // position of its first step in this pass (where the next pass starts if this one leaves the pair unfinished).
    const pairs = new Map<string, { survivorId: string; duplicateId: string; reason: string; first: number }>();
    for (const e of await this.events.readAll({ fromPosition: from, eventTypes: MERGE_STEP_TYPES })) {
      const data = e.data as { customerId: string; survivorId: string; reason: string };
      const key = `${data.customerId}\u0000${data.survivorId}`;
      pairs.set(key, { survivorId: data.survivorId, duplicateId: data.customerId, reason: data.reason, first: pairs.get(key)?.first ?? e.position });
      scanned = Math.max(scanned, e.position);
    }
    const done: Array<{ survivorId: string; duplicateId: string; completed: 'merge' | 'unmerge' | 'abandoned' }> = [];
    for (const { survivorId, duplicateId, reason, first } of pairs.values()) {
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
        // Looked at again by the next pass (the next start of any replica), from just before its first step.
        scanned = Math.min(scanned, first - 1);
        this.logger.error({ msg: 'could not complete a half-done customer merge step; retried at the next start', survivorId, duplicateId, error: String(error) });
      }
    }
    // Never moved back (the store keeps the highest), so two replicas' passes cannot undo each other.
    if (scanned > from) await this.readModels.saveCheckpoints([{ projection: MERGE_RESUME_CHECKPOINT, position: scanned }]);
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
