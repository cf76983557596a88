import { loadConfig, makeLogger, openProjector, openWaitingForStores, startTracing } from '@crm/runtime';

/**
 * The projector as its own process (docker compose `projector` service; the API then runs with PROJECTOR=off):
 * every projection from its checkpoint, then live, plus the SLA watcher. With MONGODB_URI any number of these run:
 * each runs the projections (and the SLA watcher) whose lease it holds (docs/decisions.md, "Projector replicas").
 * SIGTERM stops it between batches and releases its leases, for the others to take at once; SIGKILL at any moment
 * is safe too (the per-document position guard makes the replay idempotent, and the leases expire).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = makeLogger(config, 'projector');
  const tracing = await startTracing({ serviceName: 'crm-projector' });
  let stopping = false;
  // Started while a store is down or too slow (a loaded host, a failover): wait for it, as a running replica pauses.
  const { host, close } = await openWaitingForStores(() => openProjector(config), {
    stopped: () => stopping,
    onRetry: (error, attempt, delayMs) => logger.warn({
      msg: 'stores unavailable at start, waiting', attempt, retryInMs: delayMs, error: error instanceof Error ? error.message : String(error),
    }),
  });
  logger.log({
    msg: 'projector started',
    replica: host.leaseManager?.replicaId ?? null,
    projections: host.runner.status().map((s) => `${s.name}@v${s.version}:${s.checkpoint}`),
  });
  const report = setInterval(() => {
    logger.log({ msg: 'projector status', replica: host.leaseManager?.replicaId ?? null, leases: host.leaseManager?.holding() ?? null, projections: host.runner.status() });
  }, 30_000);
  report.unref();
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log({ msg: 'stopping', signal });
    clearInterval(report);
    await close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`projector failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
