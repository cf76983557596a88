import type { Collection, Db } from 'mongodb';
import { LEASES, REPLICAS, type Lease, type LeaseStore } from './lease-store.port';

interface LeaseDoc {
  _id: string;
  holder: string;
  token: number;
  expiresAt: number;
}

interface ReplicaDoc {
  _id: string;
  expiresAt: number;
}

const DUPLICATE_KEY = 11000;
const isDuplicate = (e: unknown): boolean => typeof e === 'object' && e !== null && 'code' in e && e.code === DUPLICATE_KEY;
const toLease = (d: LeaseDoc): Lease => ({ name: d._id, holder: d.holder, token: d.token, expiresAt: d.expiresAt });

/**
 * Leases in MongoDB (the read models' database). No transactions and no findAndModify: a takeover reads the lease and
 * then updates it on the token it read (compare-and-set on one document), so of two replicas racing for one expired
 * lease exactly one matches; the other reads the winner's lease on its next try.
 */
export class MongoLeaseStore implements LeaseStore {
  private readonly leases: Collection<LeaseDoc>;
  private readonly replicas: Collection<ReplicaDoc>;

  constructor(db: Db) {
    this.leases = db.collection<LeaseDoc>(LEASES);
    this.replicas = db.collection<ReplicaDoc>(REPLICAS);
  }

  async acquire(name: string, holder: string, now: number, ttlMs: number): Promise<Lease | null> {
    const expiresAt = now + ttlMs;
    const current = await this.leases.findOne({ _id: name });
    if (!current) {
      try {
        await this.leases.insertOne({ _id: name, holder, token: 1, expiresAt });
        return { name, holder, token: 1, expiresAt };
      } catch (e: unknown) {
        if (isDuplicate(e)) return null; // another replica created it first
        throw e;
      }
    }
    if (current.holder === holder && current.expiresAt > now) return this.renew(toLease(current), now, ttlMs);
    if (current.expiresAt > now) return null;
    const token = current.token + 1;
    const taken = await this.leases.updateOne(
      { _id: name, token: current.token, expiresAt: { $lte: now } },
      { $set: { holder, token, expiresAt } },
    );
    return taken.matchedCount === 1 ? { name, holder, token, expiresAt } : null;
  }

  async renew(lease: Lease, now: number, ttlMs: number): Promise<Lease | null> {
    const expiresAt = now + ttlMs;
    const renewed = await this.leases.updateOne(
      { _id: lease.name, holder: lease.holder, token: lease.token, expiresAt: { $gt: now } },
      { $set: { expiresAt } },
    );
    return renewed.matchedCount === 1 ? { ...lease, expiresAt } : null;
  }

  async release(lease: Lease): Promise<void> {
    await this.leases.updateOne({ _id: lease.name, holder: lease.holder, token: lease.token }, { $set: { expiresAt: 0 } });
  }

  async list(): Promise<Lease[]> {
    return (await this.leases.find({}).sort({ _id: 1 }).toArray()).map(toLease);
  }

  async heartbeat(replica: string, now: number, ttlMs: number): Promise<void> {
    await this.replicas.updateOne({ _id: replica }, { $set: { expiresAt: now + ttlMs } }, { upsert: true });
  }

  async liveReplicas(now: number): Promise<string[]> {
    return (await this.replicas.find({ expiresAt: { $gt: now } }).sort({ _id: 1 }).toArray()).map((r) => r._id);
  }

  async leave(replica: string): Promise<void> {
    await this.replicas.deleteOne({ _id: replica });
  }
}
