/**
 * Leases of the projector replicas (docs/decisions.md, "Projector replicas: leases and fencing"): one per projection
 * and one for the SLA watcher, in `projection_leases`. Every operation is one conditional write of one record, so a
 * store without transactions (MongoDB, standalone or replica set) gives the same guarantees as SQLite.
 *
 * Times are milliseconds since the epoch on the caller's clock. Replicas on several hosts compare each other's
 * expiry times, so clock skew between them shortens or lengthens a lease by the skew: that costs availability (a
 * takeover a little early or late), never correctness, because every write of a projection carries the lease's
 * fencing `token` and the read-model store refuses a lower token than one it has seen.
 */
export interface Lease {
  readonly name: string;
  /** Replica id of the holder. */
  readonly holder: string;
  /** Fencing token: grows by one on every takeover (never reused: a lease record is never deleted). */
  readonly token: number;
  readonly expiresAt: number;
}

export interface LeaseStore {
  /**
   * Takes `name` for `holder` when nobody holds it or its lease expired (token + 1; 1 for a new lease), or extends it
   * when `holder` holds it already (same token). Null when another replica holds it.
   */
  acquire(name: string, holder: string, now: number, ttlMs: number): Promise<Lease | null>;
  /** Extends `lease` while it is still unexpired and still this holder's with this token; null when it is not. */
  renew(lease: Lease, now: number, ttlMs: number): Promise<Lease | null>;
  /** Gives `lease` up at once (a clean stop, or a rebalance), keeping its token for the next holder to increment. */
  release(lease: Lease): Promise<void>;
  /** Every lease ever taken, expired ones included, by name. */
  list(): Promise<Lease[]>;
  /** Says `replica` is alive until `now + ttlMs` (how replicas count each other to share the leases fairly). */
  heartbeat(replica: string, now: number, ttlMs: number): Promise<void>;
  /** The replicas whose heartbeat has not expired, by id. */
  liveReplicas(now: number): Promise<string[]>;
  /** Removes `replica`'s heartbeat (a clean stop). */
  leave(replica: string): Promise<void>;
}

export const LEASE_STORE = Symbol('LeaseStore');
export const LEASES = 'projection_leases';
export const REPLICAS = 'projector_replicas';
/** The SLA watcher's lease: whoever holds it runs the passes, so a due deadline is looked at by one replica at a time. */
export const SLA_WATCHER_LEASE = 'sla-watcher';
