/**
 * The projector as its own process, as docker compose runs it beside an API started with PROJECTOR=off: the real
 * apps/projector composition (every projection live, SLA watcher). Env: BENCH_DATA_DIR, BENCH_SYNC (NORMAL|FULL).
 * It listens on no port (reports 0); the bench reads its CPU and event loop through the child protocol.
 */
import 'reflect-metadata';
import { loadConfig, openProjector } from '@crm/runtime';
import { serveAsChild } from './child-protocol';

serveAsChild(async () => {
  const dataDir = process.env.BENCH_DATA_DIR;
  if (!dataDir) throw new Error('BENCH_DATA_DIR is required');
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', SQLITE_SYNCHRONOUS: process.env.BENCH_SYNC ?? 'FULL', PROJECTOR: 'off' });
  const { close } = await openProjector(config);
  return { port: 0, close };
});
