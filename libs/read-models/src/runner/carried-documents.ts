import type { Doc, DocumentWrite } from '../store/read-model-store.port';

/**
 * How much a catching-up build may carry in memory between its commits (see CarriedDocuments): documents over all the
 * runner's builds, and time since the oldest carried write.
 */
export interface CarryLimits {
  /** Documents carried by all builds together; 0 commits every page, as a build that serves does. */
  readonly maxDocuments: number;
  /** A carried write is committed at the latest this long after its page applied. */
  readonly maxMs: number;
}

/**
 * 10,000 documents: `customer_profiles` touches ~11,000 customers in 20,000 events of a 1M-event log, where one page of
 * 5,000 touches ~3,800; its ~1 KB documents (the busiest, which are carried, up to 32 KB) cost ~30 MB of RSS. 3 s
 * bounds how long a write a build has applied waits for its commit (docs/decisions.md, "Documents carried from page
 * to page"). The projector's own setting is PROJECTION_CARRY_DOCUMENTS (the same default).
 */
export const DEFAULT_CARRY_LIMITS: CarryLimits = { maxDocuments: 10_000, maxMs: 3_000 };

/**
 * What a build that serves no queries yet (a first build, a rebuild, a new code version) carries from one page to the
 * next while it catches up: the documents it read or wrote since its last commit, as it last applied them, and the
 * writes not committed yet. The next page reads its documents here instead of from the store, and a document changed
 * by several pages is written once, with the checkpoint, when the carry is committed.
 *
 * Nothing of the read side's guarantees moves: the carried writes and the checkpoint commit together (one
 * `applyBatch`), so a crash loses only what was carried, and the build resumes from its checkpoint; a store error
 * drops the carry and the worker retries from its checkpoint. The runner's read cursor is ahead of the checkpoint
 * meanwhile; what the build reports, and what queries wait for, is its checkpoint.
 */
export class CarriedDocuments {
  /** Documents by collection + id as the build last applied them (null: absent or deleted). */
  readonly docs = new Map<string, Doc | null>();
  /** The latest write of each document not committed yet. */
  readonly unsaved = new Map<string, DocumentWrite>();
  /** Events applied since the last commit (the worker's `eventsApplied` counts committed ones). */
  applied = 0;

  constructor(readonly since: number) {}

  /** Whether this carry may go on to the next page, with `othersCarried` documents carried by the other builds. */
  mayGoOn(limits: CarryLimits, othersCarried: number, now: number): boolean {
    return this.docs.size + othersCarried < limits.maxDocuments && now - this.since < limits.maxMs;
  }
}
