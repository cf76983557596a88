import {
  loadConfig, makeLogger, Metrics, openProjector, openReadModelStore, openWaitingForStores, ProjectorThread, projectorThreadsFor, startTracing,
  type AppConfig,
} from '@crm/runtime';

type Logger = ReturnType<typeof makeLogger>;

interface Running {
  readonly close: () => Promise<void>;
  readonly status: () => Promise<unknown>;
}

/**
 * The projector as its own process (docker compose `projector` service; the API then runs with PROJECTOR=off):
 * every projection from its checkpoint, then live, plus the SLA watcher. With MONGODB_URI any number of these run:
 * each runs the projections (and the SLA watcher) whose lease it holds (docs/decisions.md, "Projector replicas").
 * With PROJECTOR_THREADS=n > 1 (default 1: production scales by replicas) its projections are shared out by cost among
 * n worker threads, each a lease holder for its group, so a catch-up uses more than one core.
 * SIGTERM stops it between batches and releases its leases, for the others to take at once; SIGKILL at any moment
 * is safe too (the per-document position guard makes the replay idempotent, and the leases expire).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = makeLogger(config, 'projector');
  const tracing = await startTracing({ serviceName: 'crm-projector' });
  let stopping = false;
  // Started while a store is down or too slow (a loaded host, a failover): wait for it, as a running replica pauses.
  const running = await openWaitingForStores(() => (projectorThreadsFor(config) > 1 ? openThreads(config, logger) : openInProcess(config, logger)), {
    stopped: () => stopping,
    onRetry: (error, attempt, delayMs) => logger.warn({
      msg: 'stores unavailable at start, waiting', attempt, retryInMs: delayMs, error: error instanceof Error ? error.message : String(error),
    }),
  });
  const report = setInterval(() => {
    void running.status().then((status) => logger.log({ msg: 'projector status', ...(status as object) }));
  }, 30_000);
  report.unref();
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log({ msg: 'stopping', signal });
    clearInterval(report);
    await running.close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** One runner on this process's event loop (PROJECTOR_THREADS=1). */
async function openInProcess(config: AppConfig, logger: Logger): Promise<Running> {
  const { host, close } = await openProjector(config);
  logger.log({
    msg: 'projector started',
    replica: host.leaseManager?.replicaId ?? null,
    projections: host.runner.status().map((s) => `${s.name}@v${s.version}:${s.checkpoint}`),
  });
  return {
    close,
    status: async () => ({ replica: host.leaseManager?.replicaId ?? null, leases: host.leaseManager?.holding() ?? null, projections: host.runner.status() }),
  };
}

/** The projections in worker threads, each with its runner and connections; a crashed one is started again. */
async function openThreads(config: AppConfig, logger: Logger): Promise<Running> {
  // Only for the threads' supervisor: where a projection's serving build is while its thread is down.
  const readModels = await openReadModelStore(config);
  let threads: ProjectorThread;
  try {
    threads = await ProjectorThread.start({
      config, readModels, metrics: new Metrics(),
      logger: { error: (m) => logger.error(m), log: (m) => logger.log(m) },
    });
  } catch (error) {
    await readModels.close().catch(() => undefined);
    throw error;
  }
  const status = await threads.status();
  logger.log({
    msg: 'projector started',
    threads: threads.groups,
    projections: status.map((s) => `${s.name}@v${s.version}:${s.checkpoint}`),
  });
  return {
    close: async () => {
      await threads.stop();
      await readModels.close();
    },
    status: async () => ({ projections: await threads.status() }),
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`projector failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
