import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { StoreUnavailable } from '@crm/event-store';
import {
  IDEMPOTENCY_RETENTION_MS, idempotencyScopeHash, type IdempotencyStore, type Reservation, type StoredResponse,
} from './idempotency-store';

/** The one place that names the collection (docs/decisions.md, "Idempotency keys in MongoDB"). */
export const IDEMPOTENCY_COLLECTION = 'idempotency_keys';
/** How long a reservation counts as running on its replica: a command takes milliseconds, a slow one a few seconds. */
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 30_000;
const TTL_INDEX = 'expiresAt_ttl';
const DUPLICATE_KEY = 11000;
/**
 * Rounds of "claim, else read, else take over" before answering in-progress. Each lost round means another replica
 * wrote the record meanwhile, so a second round nearly always settles it; the bound keeps a pathological race finite.
 */
const MAX_ROUNDS = 4;

/** Driver errors meaning "no server to talk to, or none that may take writes now" (subclasses included). */
const UNAVAILABLE_ERRORS = new Set([
  'MongoNetworkError', 'MongoServerSelectionError', 'MongoNotConnectedError', 'MongoTopologyClosedError',
  'MongoOperationTimeoutError', 'MongoWriteConcernError',
]);
/**
 * Server codes of the same kind: HostUnreachable, HostNotFound, MaxTimeMSExpired, WriteConcernFailed, NetworkTimeout,
 * ShutdownInProgress, PrimarySteppedDown, ExceededTimeLimit, SocketException, NotWritablePrimary,
 * InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
 */
const UNAVAILABLE_CODES = new Set([6, 7, 50, 64, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** One record per (principal, key). */
interface KeyRecord {
  /** `idempotencyScopeHash(scope)`: the raw key is never stored. */
  _id: string;
  requestHash: string;
  state: 'pending' | 'done';
  /** JSON text: a response body's field names are the client's and need not be valid BSON field names. */
  response?: string;
  /** Minted at the first reservation, kept by every takeover (the recovered attempt's id and causation id). */
  requestId: string;
  /** The replica (its boot id) running the request; absent once done. */
  owner?: string;
  /** The pending record is "in progress" until then; a released one has it at the epoch (recoverable at once). */
  leaseUntil?: Date;
  /** The TTL index deletes the record after this; reserve treats it as gone already (the TTL monitor runs each 60 s). */
  expiresAt: Date;
}

function codeOf(e: unknown): unknown {
  return typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
}

function isUnavailable(e: unknown): boolean {
  const code = codeOf(e);
  if (typeof code === 'number' && UNAVAILABLE_CODES.has(code)) return true;
  for (let proto: unknown = Object.getPrototypeOf(e); typeof proto === 'object' && proto !== null; proto = Object.getPrototypeOf(proto)) {
    const ctor: unknown = (proto as { constructor?: unknown }).constructor;
    if (typeof ctor === 'function' && UNAVAILABLE_ERRORS.has(ctor.name)) return true;
  }
  return false;
}

/**
 * Idempotency records in MongoDB, shared by every API replica (DESIGN §2). A pending record is "in progress" only while
 * its owner's lease runs (`leaseUntil`, set once at reservation; a request is short, so nothing renews it); after
 * that, or at once when its owner released it (5xx, outcome not recorded), another attempt on any replica takes it
 * over as recovered, with the same request id. A replica that dies mid-request thus blocks a retry of that key, on
 * any replica, with 409 until its lease ends. Every step is one atomic single-document operation (no transactions):
 * a new key is claimed by an upsert that only matches an expired record, so a live one makes it fail with E11000;
 * a takeover is a compare-and-set on the owner and lease it read.
 */
export class MongoIdempotencyStore implements IdempotencyStore {
  /** This replica: a boot id, so a restarted process never mistakes an earlier boot's reservation for its own. */
  readonly owner = randomUUID();
  private readonly leaseMs: number;
  private readonly retentionMs: number;

  /** Ensures the TTL index. `db` belongs to the caller (the read-model store's client): `close` leaves it open. */
  static async open(db: Db, options: { leaseMs?: number; retentionMs?: number } = {}): Promise<MongoIdempotencyStore> {
    const store = new MongoIdempotencyStore(db.collection<KeyRecord>(IDEMPOTENCY_COLLECTION), options);
    await store.guarded(() => store.keys.createIndex({ expiresAt: 1 }, { name: TTL_INDEX, expireAfterSeconds: 0 }));
    return store;
  }

  private constructor(
    private readonly keys: Collection<KeyRecord>,
    options: { leaseMs?: number; retentionMs?: number },
  ) {
    this.leaseMs = options.leaseMs ?? DEFAULT_IDEMPOTENCY_LEASE_MS;
    this.retentionMs = options.retentionMs ?? IDEMPOTENCY_RETENTION_MS;
  }

  async reserve(scope: string, requestHash: string, nowMs: number, requestId: string): Promise<Reservation> {
    const id = idempotencyScopeHash(scope);
    return this.guarded(async () => {
      for (let round = 0; round < MAX_ROUNDS; round += 1) {
        if (await this.claimNew(id, requestHash, requestId, nowMs)) return { kind: 'reserved', requestId, recovered: false };
        const record = await this.keys.findOne({ _id: id });
        if (record === null || record.expiresAt.getTime() <= nowMs) continue; // expired or deleted meanwhile: claim it
        if (record.state === 'done' && typeof record.response === 'string') {
          return { kind: 'completed', requestHash: record.requestHash, response: JSON.parse(record.response) as StoredResponse };
        }
        if ((record.leaseUntil?.getTime() ?? 0) > nowMs) return { kind: 'in-progress' };
        // What the earlier attempt did is unknown, so the key stays bound to its request.
        if (record.requestHash !== requestHash) return { kind: 'reused' };
        if (await this.takeOver(record, nowMs)) return { kind: 'reserved', requestId: record.requestId, recovered: true };
      }
      return { kind: 'in-progress' };
    });
  }

  async complete(scope: string, requestHash: string, response: StoredResponse, nowMs: number): Promise<void> {
    let text: string;
    try {
      text = JSON.stringify(response);
    } catch (error) {
      // Not recordable: no longer running either, so the next attempt recovers it rather than waiting for the lease.
      await this.release(scope);
      throw error;
    }
    // If the write fails the server is likely out of reach: the caller's release tries once more, else the lease ends.
    await this.guarded(() => this.keys.updateOne(
      // Only while this replica holds it: after a takeover the new holder records the (same, recovered) outcome.
      { _id: idempotencyScopeHash(scope), state: 'pending', owner: this.owner },
      {
        $set: { state: 'done', requestHash, response: text, expiresAt: new Date(nowMs + this.retentionMs) },
        $unset: { owner: '', leaseUntil: '' },
      },
    ));
  }

  async release(scope: string): Promise<void> {
    await this.guarded(() => this.keys.updateOne(
      { _id: idempotencyScopeHash(scope), state: 'pending', owner: this.owner },
      { $set: { leaseUntil: new Date(0) } },
    ));
  }

  /** The client is the read-model store's; it closes it. */
  async close(): Promise<void> {}

  /** A new key, or one whose record expired: an upsert matching only an expired record, E11000 on a live one. */
  private async claimNew(id: string, requestHash: string, requestId: string, nowMs: number): Promise<boolean> {
    try {
      await this.keys.updateOne(
        { _id: id, expiresAt: { $lte: new Date(nowMs) } },
        {
          $set: {
            requestHash, state: 'pending', requestId, owner: this.owner,
            leaseUntil: new Date(nowMs + this.leaseMs), expiresAt: new Date(nowMs + this.retentionMs),
          },
          $unset: { response: '' },
        },
        { upsert: true },
      );
      return true;
    } catch (error) {
      if (codeOf(error) === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  /** Compare-and-set on what was read: of two replicas taking over one record, one wins, the other reads again. */
  private async takeOver(record: KeyRecord, nowMs: number): Promise<boolean> {
    const result = await this.keys.updateOne(
      {
        _id: record._id, state: 'pending', requestId: record.requestId,
        owner: record.owner ?? { $exists: false }, leaseUntil: record.leaseUntil ?? { $exists: false },
      },
      { $set: { owner: this.owner, leaseUntil: new Date(nowMs + this.leaseMs), expiresAt: new Date(nowMs + this.retentionMs) } },
    );
    return result.matchedCount === 1;
  }

  private async guarded<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      throw new StoreUnavailable(`idempotency store unavailable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
