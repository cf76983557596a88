import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ProjectorHost, ProjectorThread } from '@crm/runtime';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../apps/api/src/app.factory';
import { listenOptions } from '../../apps/api/src/http/http-edge';
import { ManualClock } from '@crm/runtime';
import { loadConfig } from '@crm/runtime';
import { makeTempDir } from './temp-dir';

export const TOKENS = {
  agent: 'agent-token-0123456789',
  agent2: 'agent2-token-0123456789',
  admin: 'admin-token-0123456789',
  auditor: 'auditor-token-0123456789',
  analyst: 'analyst-token-0123456789',
} as const;

export interface TestApp {
  app: NestFastifyApplication;
  baseUrl: string;
  dataDir: string;
  clock: ManualClock;
  /** The embedded projector (projections + SLA watcher); its watcher runs only when the test calls checkOnce(). */
  projector: ProjectorHost | undefined;
  /** The projector thread (projectorThread: true). */
  thread: ProjectorThread | undefined;
  /** fetch with the agent's token and JSON by default. */
  request: (method: string, path: string, options?: { body?: unknown; token?: string | null; headers?: Record<string, string>; rawBody?: string }) => Promise<TestResponse>;
  /** Closes the app and boots it again on the same DATA_DIR; `whileStopped` runs in between (to tamper with files). */
  restart: (whileStopped?: () => void) => Promise<void>;
  close: () => Promise<void>;
  writeTokens: (entries: unknown[]) => void;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test responses are asserted field by field
}

/** The response when its status is `status`; otherwise fails with the status and the body (a set-up step's check). */
export function expectStatus(r: TestResponse, status = 201): TestResponse {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
  return r;
}

/** The real Nest app on a random port, its own temp data dir, a manual clock and a tokens file. */
export async function startTestApp(options: {
  now?: Date; env?: Record<string, string>; customerTokens?: Array<{ token: string; customerId: string }>; startSlaWatcher?: boolean;
  /** As `npm start` runs: projections and SLA watcher in a worker thread, on the system clock (`clock` is not used). */
  projectorThread?: boolean;
  /** Where the app's JSON log lines go (LOG_LEVEL is silent unless `env` says otherwise). */
  logDestination?: { write(line: string): void };
} = {}): Promise<TestApp> {
  const tmp = makeTempDir('crm-e2e-');
  const clock = new ManualClock(options.now ?? new Date('2026-11-23T10:00:00Z'));
  const tokensFile = join(tmp.dir, 'tokens.json');
  const writeTokens = (extra: unknown[]): void =>
    writeFileSync(
      tokensFile,
      JSON.stringify([
        { token: TOKENS.agent, id: 'agent-ana', role: 'agent' },
        { token: TOKENS.agent2, id: 'agent-bob', role: 'agent' },
        { token: TOKENS.admin, id: 'admin-1', role: 'admin' },
        { token: TOKENS.auditor, id: 'auditor-1', role: 'auditor' },
        { token: TOKENS.analyst, id: 'analyst-1', role: 'analyst' },
        ...(options.customerTokens ?? []).map((c) => ({ token: c.token, id: `portal-${c.customerId}`, role: 'customer', customerId: c.customerId })),
        ...extra,
      ]),
    );
  writeTokens([]);
  // One projector thread unless a test asks for more (npm start runs 2): every thread compiles the sources through
  // ts-node at start, which tests that restart the app several times pay for on a loaded machine.
  // The projector thread at the API's priority unless a test asks (npm start lowers it by 10): jest runs suites in
  // parallel on a machine that is always busy, and a lowered thread there waits behind every other worker's API, so
  // read-your-writes waits reach READ_WAIT_MS (seen: a 503 in the MongoDB thread suite). The lowering has its own test.
  const config = loadConfig({
    DATA_DIR: join(tmp.dir, 'data'), AUTH_TOKENS_FILE: tokensFile, LOG_LEVEL: 'silent', SQLITE_SYNCHRONOUS: 'NORMAL',
    PROJECTOR: options.projectorThread ? 'thread' : 'embedded', PROJECTOR_THREADS: '1', PROJECTOR_THREAD_NICE: '0', ...options.env,
  });
  let app: NestFastifyApplication;
  let projector: ProjectorHost | undefined;
  let thread: ProjectorThread | undefined;
  let baseUrl = '';
  const boot = async (): Promise<void> => {
    const logDestination = options.logDestination;
    ({ app, projector, thread } = options.projectorThread
      ? await createApp({ config, logDestination })
      : await createApp({ config, clock, startSlaWatcher: options.startSlaWatcher ?? false, logDestination }));
    await app.listen(listenOptions(config, { port: 0, host: '127.0.0.1' }));
    const address = app.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('no port');
    baseUrl = `http://127.0.0.1:${address.port}`;
  };
  await boot();
  const result: TestApp = {
    get app() { return app; },
    get baseUrl() { return baseUrl; },
    get projector() { return projector; },
    get thread() { return thread; },
    dataDir: config.dataDir,
    clock,
    writeTokens,
    request: async (method, path, opts = {}) => {
      const token = opts.token === undefined ? TOKENS.agent : opts.token;
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (token !== null) headers['authorization'] = `Bearer ${token}`;
      let body: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
      }
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON: keep the text */ }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    restart: async (whileStopped) => {
      await app.close();
      whileStopped?.();
      await boot();
    },
    close: async () => {
      await app.close();
      tmp.remove();
    },
  };
  return result;
}
