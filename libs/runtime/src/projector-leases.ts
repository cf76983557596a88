import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { MongoLeaseStore, MongoReadModelStore, type ReadModelStore } from '@crm/read-models';
import type { AppConfig } from './config';
import type { ProjectorHostOptions } from './projector-host';

/**
 * The leases of a projector replica, in production mode (read models in MongoDB): the projections and the SLA watcher
 * are shared out among every projector process on that database. The embedded mode (SQLite) has one projector and
 * runs without leases (docs/decisions.md, "Projector replicas: leases and fencing").
 */
export function projectorLeases(
  config: AppConfig, readModels: ReadModelStore, thread?: { readonly index: number; readonly count: number },
): ProjectorHostOptions['leases'] {
  if (!(readModels instanceof MongoReadModelStore)) return undefined;
  // Thread i of n (PROJECTOR_THREADS) is a replica of its own for one group of the projections: it shares that group
  // with thread i of n of the other processes only (the groups are the same wherever n is).
  const suffix = thread && thread.count > 1 ? `#${thread.index}/${thread.count}` : '';
  return {
    store: new MongoLeaseStore(readModels.database),
    // A restarted process is a new holder: its predecessor's leases are taken over (new token), never resumed.
    // Each projector thread is a replica of its own: the suffix keeps a configured id unique across them.
    replicaId: (config.projectorReplicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`) + suffix,
    peer: suffix ? (replicaId) => replicaId.endsWith(suffix) : undefined,
    leaseMs: config.projectionLeaseMs,
    renewMs: config.projectionLeaseRenewMs,
  };
}
