import type { Lease, LeaseStore } from './lease-store.port';

/** Something a replica runs only while it holds the lease of the same name: a projection, the SLA watcher. */
export interface LeasedUnit {
  readonly name: string;
  /** Starts it; `token` is the lease's fencing token, for the unit's writes to carry. */
  start(token: number): Promise<void>;
  /** Stops it; resolves when it writes no more. */
  stop(): Promise<void>;
}

export interface LeaseManagerOptions {
  readonly store: LeaseStore;
  /** This replica's id (host name + process id + a random part: a restarted replica is a new holder). */
  readonly replicaId: string;
  readonly units: readonly LeasedUnit[];
  /** How long a lease runs without renewal (default 15 s): the longest a dead replica's units stay unowned. */
  readonly leaseMs?: number;
  /** How often leases are renewed and free ones looked for (default 5 s; well under `leaseMs`, so one slow renew is survived). */
  readonly renewMs?: number;
  /** Milliseconds since the epoch; injected by tests. */
  readonly now?: () => number;
  readonly logger?: { error(message: unknown): void; log(message: unknown): void };
  /**
   * Which live replicas share `units` with this one (default: every one). A projector thread runs one group of the
   * projections only: its fair share is counted among the same thread of the other processes, not among every
   * replica (with 2 processes of 2 threads, 4 replicas, a thread would otherwise hold a quarter of its own half).
   */
  readonly peer?: (replicaId: string) => boolean;
}

export const DEFAULT_LEASE_MS = 15_000;
export const DEFAULT_RENEW_MS = 5_000;

/**
 * Shares units (projections, the SLA watcher) out among the live projector replicas by leases, and starts and stops
 * them here as the leases come and go. Each pass: say this replica is alive (heartbeat), renew what it holds (a unit
 * whose renew fails is stopped at once), then move towards a fair share, ceil(units / live replicas): give up the
 * extras (a replica joined), take free or expired leases (a replica left or died). A dead replica's leases and
 * heartbeat expire after `leaseMs`; the survivors take its units at their next pass, within `leaseMs + renewMs`.
 */
export class LeaseManager {
  private readonly held = new Map<string, Lease>();
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly now: () => number;
  /** Passes, losses and the stop run one at a time: a unit is never started and stopped at once. */
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing: { readonly error: string; readonly since: number } | null = null;

  constructor(private readonly options: LeaseManagerOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.renewMs = options.renewMs ?? DEFAULT_RENEW_MS;
    if (this.renewMs >= this.leaseMs) throw new Error(`lease renewal (${this.renewMs} ms) must be more frequent than the lease (${this.leaseMs} ms)`);
    this.now = options.now ?? Date.now;
  }

  get replicaId(): string {
    return this.options.replicaId;
  }

  /** The units this replica holds now, with their leases. */
  holding(): Lease[] {
    return [...this.held.values()];
  }

  /**
   * Since when, and why, the lease store has been failing (null while passes succeed). The units whose renewals failed
   * are stopped meanwhile; passes go on every `renewMs` and take leases again once the store answers.
   */
  outage(): { readonly error: string; readonly since: number } | null {
    return this.failing;
  }

  /** Runs a pass now and then every `renewMs` until `stop`. */
  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.renewMs);
      });
    };
    loop();
  }

  /** One pass (public: tests drive it with their clock). Never throws: a failing store is logged, and retried next pass. */
  tick(): Promise<void> {
    return this.serially(async () => {
      try {
        await this.pass();
        if (this.failing) this.options.logger?.log({ msg: 'lease store answers again', replica: this.replicaId, failingSinceMs: this.now() - this.failing.since });
        this.failing = null;
      } catch (error) {
        this.failing ??= { error: error instanceof Error ? error.message : String(error), since: this.now() };
        throw error;
      }
    });
  }

  /** A unit's write was fenced off (another replica took it while this one paused): stop it here and forget its lease. */
  lost(name: string): Promise<void> {
    return this.serially(async () => {
      const lease = this.held.get(name);
      if (!lease) return;
      this.options.logger?.log({ msg: 'lease lost to a newer holder', lease: name, replica: this.replicaId, token: lease.token });
      await this.drop(lease, false);
    });
  }

  /** Stops every unit and releases its lease, so the other replicas take them at once rather than after expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.serially(async () => {
      for (const lease of [...this.held.values()]) await this.drop(lease, true);
      await this.options.store.leave(this.replicaId).catch(() => undefined);
    });
  }

  private serially(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work).catch((error: unknown) => {
      this.options.logger?.error({ msg: 'lease pass failed', replica: this.replicaId, error: error instanceof Error ? error.message : String(error) });
    });
    this.queue = run;
    return run;
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    const { store } = this.options;
    const now = this.now();
    await this.renewAll(now);
    await store.heartbeat(this.replicaId, now, this.leaseMs);
    const peer = this.options.peer ?? (() => true);
    const live = new Set((await store.liveReplicas(now)).filter(peer)).add(this.replicaId);
    const share = Math.ceil(this.options.units.length / live.size);
    // A replica joined: give up the extras (the last units first), for it to take at its next pass.
    for (const unit of [...this.options.units].reverse()) {
      if (this.held.size <= share) break;
      const lease = this.held.get(unit.name);
      if (lease) await this.drop(lease, true);
    }
    for (const unit of this.options.units) {
      if (this.held.size >= share || this.stopped) break;
      if (this.held.has(unit.name)) continue;
      const lease = await store.acquire(unit.name, this.replicaId, this.now(), this.leaseMs);
      if (!lease) continue;
      this.held.set(unit.name, lease);
      try {
        await unit.start(lease.token);
        this.options.logger?.log({ msg: 'lease taken', lease: unit.name, replica: this.replicaId, token: lease.token, expiresAt: new Date(lease.expiresAt).toISOString() });
      } catch (error) {
        this.options.logger?.error({ msg: 'starting a leased unit failed, releasing it', lease: unit.name, error: error instanceof Error ? error.message : String(error) });
        await this.drop(lease, true);
      }
    }
  }

  /** A lease that cannot be renewed (taken over, expired, or the store unreachable) stops its unit at once. */
  private async renewAll(now: number): Promise<void> {
    const leases = [...this.held.values()];
    // In parallel: in an outage each renewal waits out the store's timeout, and one after another they would keep the
    // units running (and this pass busy) for units x timeout instead of one timeout.
    const outcomes = await Promise.allSettled(leases.map((lease) => this.options.store.renew(lease, now, this.leaseMs)));
    const lost: Lease[] = [];
    for (const [i, lease] of leases.entries()) {
      const outcome = outcomes[i];
      let renewed: Lease | null;
      if (outcome?.status === 'fulfilled') {
        renewed = outcome.value;
      } else {
        const error: unknown = outcome?.reason;
        this.options.logger?.error({ msg: 'lease renewal failed', lease: lease.name, error: error instanceof Error ? error.message : String(error) });
        renewed = null;
      }
      if (renewed) {
        this.held.set(lease.name, renewed);
        continue;
      }
      this.options.logger?.log({ msg: 'lease not renewed, stopping its unit', lease: lease.name, replica: this.replicaId, token: lease.token });
      lost.push(lease);
    }
    // Stopped in parallel too: each stop waits for its unit's batch in flight, which in an outage may be waiting out a
    // store timeout; one after another, the last units ran on for the sum of them (seen: ten units, over 10 s).
    const stops = await Promise.allSettled(lost.map((lease) => this.drop(lease, false)));
    const failed = stops.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async drop(lease: Lease, release: boolean): Promise<void> {
    this.held.delete(lease.name);
    const unit = this.options.units.find((u) => u.name === lease.name);
    try {
      await unit?.stop();
    } finally {
      // Released only once the unit writes no more: the next holder must not start beside it.
      if (release) await this.options.store.release(lease).catch(() => undefined);
    }
  }
}
