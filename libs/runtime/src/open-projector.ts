import { mkdirSync } from 'node:fs';
import { ALL_PROJECTIONS } from '@crm/read-models';
import { systemClock } from './clock';
import {
  loadKeyEncryptionKey, makeDeciders, makeProjectorHost, openEventStore, openKeyStore, openReadModelStore, type AppendSignals,
} from './composition';
import { assertProductionSettings, isProductionMode, type AppConfig } from './config';
import { makeLogger } from './logger';
import { Metrics, type ProjectorMetrics } from './metrics';
import type { ProjectorHost } from './projector-host';
import { projectorLeases } from './projector-leases';

export interface OpenProjectorOptions {
  readonly metrics?: ProjectorMetrics;
  readonly onProgress?: () => void;
  /** See AppendSignals: a projector thread hears of the API thread's appends without waiting for its poll. */
  readonly appendsElsewhere?: AppendSignals['appendsElsewhere'];
  /** One projector thread's share (PROJECTOR_THREADS): these projections only; default every projection. */
  readonly projections?: readonly string[];
  /** Whether the SLA watcher and the owner hand-over run here (one thread of a projector runs them); default true. */
  readonly startSlaWatcher?: boolean;
  /** Which of the projector's threads this is (leases: each thread is a replica for its group, projectorLeases). */
  readonly thread?: { readonly index: number; readonly count: number };
}

/**
 * A projector on its own connections (every projection from its checkpoint, then live, plus the SLA watcher on the
 * system clock), started: the projector process, and the projector thread of `npm start`. `close` stops it in order.
 */
export async function openProjector(
  config: AppConfig, options: OpenProjectorOptions = {},
): Promise<{ host: ProjectorHost; close: () => Promise<void> }> {
  // Production mode: nothing under DATA_DIR, and the data keys' KEK from its file (checked before connecting).
  assertProductionSettings(config, 'projector');
  const projections = options.projections?.map((name) => {
    const projection = ALL_PROJECTIONS.find((p) => p.name === name);
    if (!projection) throw new Error(`unknown projection ${name}`);
    return projection;
  });
  const watcher = options.startSlaWatcher ?? true;
  if (!isProductionMode(config)) mkdirSync(config.dataDir, { recursive: true });
  const kek = loadKeyEncryptionKey(config);
  const metrics = options.metrics ?? new Metrics();
  const readModelStore = await openReadModelStore(config, {
    onWriteLockWait: (seconds) => metrics.readModelWriteLockWait.inc({}, seconds),
    // One runner leaves a core to a checkpoint thread; two or more projector threads take both cores and commit in
    // turn, so the WAL is never wholly copied: there SQLite checkpoints inside their commits (docs/decisions.md,
    // "Read-model checkpoints off the projector's thread").
    backgroundCheckpoints: (options.thread?.count ?? 1) < 2,
  });
  let keys: Awaited<ReturnType<typeof openKeyStore>>;
  try {
    keys = await openKeyStore(config, readModelStore, kek);
  } catch (error) {
    await readModelStore.close().catch(() => undefined);
    throw error;
  }
  const eventStore = openEventStore(config, systemClock, keys, { appendsElsewhere: options.appendsElsewhere });
  const deciders = makeDeciders(config, eventStore);
  const logger = makeLogger(config, 'projector');
  const host = makeProjectorHost({
    config, clock: systemClock, eventStore, readModelStore, complaintDecider: deciders.complaint, slaPolicies: deciders.slaPolicies,
    metrics, onProgress: options.onProgress, projections, startSlaWatcher: watcher, carryShares: options.thread?.count,
    leases: projectorLeases(config, readModelStore, options.thread),
  });
  const close = async (): Promise<void> => {
    deciders.slaPolicies.stopPolling();
    await host.stop();
    await readModelStore.close();
    await eventStore.close();
    await keys.close();
  };
  try {
    // The watcher decides with the versions complaints were filed under: at most one watcher interval behind the log.
    // A log that is down at start is retried by the polling, as the projections retry their subscriptions.
    const warn = (error: unknown): void => logger.warn(`SLA policies not refreshed: ${String(error)}`);
    if (watcher) {
      await deciders.slaPolicies.refresh().catch(warn);
      deciders.slaPolicies.startPolling(config.slaIntervalMs, warn);
    }
    await host.start();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { host, close };
}
