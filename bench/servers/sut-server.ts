/**
 * The system under test of the command-path bench: the whole API app exactly as createApp builds it (auth guard,
 * validation pipe, idempotency interceptor, CQRS bus, read stream → fold → decide → group-committed append).
 * Env: BENCH_DATA_DIR, BENCH_SYNC (NORMAL|FULL), BENCH_TOKENS (JSON array of {token,id,role}),
 * BENCH_PROJECTOR (off|embedded|thread: whether and where this process also runs the projections; `npm start`: thread),
 * BENCH_PROJECTOR_THREAD_ENTRY (the compiled projector-thread.worker.js the thread runs, as under `npm start`).
 */
import 'reflect-metadata';
import { createApp } from '../../apps/api/src/app.factory';
import { listenOptions } from '../../apps/api/src/http/http-edge';
import { loadConfig } from '@crm/runtime';
import { serveAsChild } from './child-protocol';

serveAsChild(async () => {
  const dataDir = process.env.BENCH_DATA_DIR;
  const tokens = process.env.BENCH_TOKENS;
  if (!dataDir || !tokens) throw new Error('BENCH_DATA_DIR and BENCH_TOKENS are required');
  // Only what the bench means to set: nothing else from this shell's environment (PORT, EVENTSTORE_..., ...) leaks in.
  const config = loadConfig({
    DATA_DIR: dataDir,
    AUTH_TOKENS: tokens,
    LOG_LEVEL: 'silent',
    SQLITE_SYNCHRONOUS: process.env.BENCH_SYNC ?? 'FULL',
    PROJECTOR: process.env.BENCH_PROJECTOR ?? 'off',
    // A/B of the live tail's wake coalescing (unset: the app's default).
    ...(process.env.PROJECTION_COALESCE_MS ? { PROJECTION_COALESCE_MS: process.env.PROJECTION_COALESCE_MS } : {}),
    // A/B of the projector thread's priority (unset: the app's default).
    ...(process.env.PROJECTOR_THREAD_NICE ? { PROJECTOR_THREAD_NICE: process.env.PROJECTOR_THREAD_NICE } : {}),
  });
  const { app } = await createApp({ config, projectorThreadEntry: process.env.BENCH_PROJECTOR_THREAD_ENTRY || undefined });
  await app.listen(listenOptions(config, { port: 0, host: '127.0.0.1' }));
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { port: address.port, close: () => app.close() };
});
