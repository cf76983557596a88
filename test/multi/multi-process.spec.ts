import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkpointName, MongoReadModelStore, ALL_PROJECTIONS } from '@crm/read-models';
import { loadConfig, openEventStoreWithKeys, systemClock } from '@crm/runtime';
import { freePort } from '../support/free-port';
import { cleanRebuildInto, dumpReadModels, until } from '../support/read-model-state';
import { makeTempDir } from '../support/temp-dir';

/**
 * The production topology as separate processes (issue 14, item 6): the event log and MongoDB as servers (the
 * doubles of `npm run servers:doubles`, or the real servers when EVENTSTORE_CONNECTION_STRING and MONGODB_URI are
 * set), 2 API replicas (PROJECTOR=off, each its own DATA_DIR and port) and 2 projector replicas. 8 clients write
 * contacts, complaints and purchases through both replicas, half of them with an Idempotency-Key; a keyed request
 * whose replica died is sent again to the other replica with the same key and body. In every round one API replica
 * and one projector replica are killed with SIGKILL at random moments and started again.
 *
 * At the end: every acknowledged command is in the log exactly once (read back decrypted, as an auditor, through
 * GET /events), nothing is in it twice, a keyed command answers the same on either replica, every read model equals
 * a clean rebuild of the log, a complaint filed 30 days ago and never answered has exactly one SlaBreached per
 * deadline kind, and no data directory holds a database file.
 *
 * Needs `npm run build` (`npm run test:multi` builds first). Knobs:
 *   MULTI_ROUNDS (default 5) kill rounds · MULTI_ROUND_MS (default 3000) length of a round · MULTI_CLIENTS (default 8)
 *   MULTI_SEED (default random, shown in the test's name) customers and kill moments
 *   MULTI_LOG_DIR: each process's output to <dir>/<name>.log, and the phases of the test on stderr.
 *   MULTI_EXPECT_NO_FILES (default 1): see the last assertion.
 *   MULTI_SHARED_DATA_DIR (default 0): 1 gives all four processes one DATA_DIR, as docker-compose.yml did before the
 *   data keys moved to MongoDB; needed while keys.db is a per-DATA_DIR file (see below).
 */
const ROOT = join(__dirname, '..', '..');
const API_MAIN = join(ROOT, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
const PROJECTOR_MAIN = join(ROOT, 'dist', 'apps', 'projector', 'apps', 'projector', 'src', 'main.js');
const ROUNDS = Number(process.env.MULTI_ROUNDS ?? 5);
const ROUND_MS = Number(process.env.MULTI_ROUND_MS ?? 3000);
const CLIENTS = Math.max(8, Number(process.env.MULTI_CLIENTS ?? 8));
const EXPECT_NO_FILES = (process.env.MULTI_EXPECT_NO_FILES ?? '1') === '1';
const SHARED_DATA_DIR = (process.env.MULTI_SHARED_DATA_DIR ?? '0') === '1';
/** When set, each process's output goes to <dir>/<name>.log, and the test notes its phases on stderr. */
const LOG_DIR = process.env.MULTI_LOG_DIR || undefined;
const note = (what: string): void => {
  if (LOG_DIR) process.stderr.write(`multi-process ${new Date().toISOString()} ${what}\n`);
};
const REAL_SERVERS = Boolean(process.env.EVENTSTORE_CONNECTION_STRING && process.env.MONGODB_URI);
/** Picks the customers and the kill moments; in the test's name, so a failing run can be replayed with MULTI_SEED. */
const SEED = Number(process.env.MULTI_SEED ?? 1 + Math.floor(Math.random() * 1_000_000));
const CUSTOMERS = 10;
/** Short, so that a keyed request whose replica died gets its answer from the other replica within the run. */
const IDEMPOTENCY_LEASE_MS = 3000;

const AGENT = `multi-agent-${randomBytes(12).toString('base64url')}`;
const AUDITOR = `multi-auditor-${randomBytes(12).toString('base64url')}`;
/** A run id in an alphabet no uuid, position or timestamp uses, so a marker can only match what this run wrote. */
const RUN = `mq${randomBytes(9).toString('base64url').replace(/[^a-zA-Z]/g, 'x')}`;

type Kind = 'contact' | 'complaint' | 'purchase';
interface Answer { status: number; body: { id: string; streamRevision: number; position: number } }
interface Op {
  readonly marker: string;
  readonly kind: Kind;
  readonly customerId: string;
  readonly key?: string;
  answer?: Answer;
}
type Reply = { status: number; body: Record<string, unknown>; replayed: boolean } | undefined;

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** A process of the topology that the test starts, kills and starts again; an exit it did not cause is recorded. */
class Service {
  private child?: ChildProcess;
  private stderr = '';
  /** Set while the test itself stops the process: a SIGTERM'd process exits 0, a SIGKILL'd one by signal. */
  private stopping = false;
  readonly unexpectedExits: string[] = [];

  constructor(readonly name: string, private readonly main: string, readonly env: Record<string, string>, readonly port?: number) {}

  get up(): boolean {
    return this.child !== undefined;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port ?? 0}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [this.main], { cwd: ROOT, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const logFile = LOG_DIR ? join(LOG_DIR, `${this.name}.log`) : undefined;
    child.stdout?.on('data', (chunk: Buffer) => logFile && appendFileSync(logFile, chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
      if (logFile) appendFileSync(logFile, chunk);
    });
    child.once('exit', (code, signal) => {
      if (!this.stopping) this.unexpectedExits.push(`${this.name} exited with ${code ?? signal}: ${this.stderr}`);
      if (this.child === child) this.child = undefined;
    });
    if (this.port === undefined) return;
    const started = Date.now();
    await until(async () => {
      if (this.child !== child) throw new Error(`${this.name} exited while starting: ${this.stderr}`);
      return fetch(`${this.base}/health/live`).then((r) => r.ok, () => false);
    }, 60_000, `${this.name} to listen`);
    note(`${this.name} listening after ${Date.now() - started} ms`);
  }

  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    child.kill(signal);
    await exited(child);
    this.stopping = false;
    this.child = undefined;
  }
}

/** `npm run servers:doubles` (the same command line, without npm in between so that SIGTERM reaches the server). */
async function startDoubles(): Promise<{ esdb: string; mongo: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'test/doubles/serve.ts'], {
    cwd: ROOT, env: { ...process.env, ESDB_DOUBLE_PORT: '', MONGO_DOUBLE_PORT: '' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const found: Record<string, string> = {};
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`servers:doubles exited with ${code}`)));
    lines.on('line', (line) => {
      const eq = line.indexOf('=');
      if (eq > 0) found[line.slice(0, eq)] = line.slice(eq + 1);
      if (found.EVENTSTORE_CONNECTION_STRING && found.MONGODB_URI) resolve();
    });
  });
  return {
    esdb: found.EVENTSTORE_CONNECTION_STRING!,
    mongo: found.MONGODB_URI!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/** The same server, another database: each run (and its clean rebuild) gets its own, so runs on real servers never meet. */
function withDatabase(uri: string, db: string): string {
  const url = new URL(uri);
  url.pathname = `/${db}`;
  return url.toString();
}

/** Files a process left in its data directory that hold state: SQLite databases and their journals. */
function databaseFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(db|sqlite3?)(-wal|-shm|-journal)?$/.test(f))
    .map((f) => join(dir, f));
}

const describeBuilt = existsSync(API_MAIN) && existsSync(PROJECTOR_MAIN) ? describe : describe.skip;
if (!existsSync(API_MAIN) || !existsSync(PROJECTOR_MAIN)) process.stderr.write('multi-process: skipped, run npm run build first\n');

describeBuilt('2 API replicas and 2 projector replicas on shared servers, killed with SIGKILL while 8 clients write', () => {
  jest.setTimeout(600_000);

  it(`acknowledges each command once, projects what a clean rebuild projects, breaches once, keeps no files (${ROUNDS} rounds, MULTI_SEED=${SEED})`, async () => {
    const tmp = makeTempDir('crm-multi-');
    if (LOG_DIR) mkdirSync(LOG_DIR, { recursive: true });
    const doubles = REAL_SERVERS ? undefined : await startDoubles();
    const services: Service[] = [];
    try {
      const esdb = doubles?.esdb ?? process.env.EVENTSTORE_CONNECTION_STRING!;
      const mongoServer = doubles?.mongo ?? process.env.MONGODB_URI!;
      const database = `crm_${RUN}`;
      const mongo = withDatabase(mongoServer, database);

      const tokensFile = join(tmp.dir, 'tokens.json');
      writeFileSync(tokensFile, JSON.stringify([
        { token: AGENT, id: 'agent-multi', role: 'agent' },
        { token: AUDITOR, id: 'auditor-multi', role: 'auditor' },
      ]));
      // One key-encryption key and one audit signing key for every process, as an operator would mount them.
      const kekFile = join(tmp.dir, 'kek.b64');
      writeFileSync(kekFile, randomBytes(32).toString('base64'), { mode: 0o600 });
      const signingKeyFile = join(tmp.dir, 'audit-signing-key.pem');
      writeFileSync(signingKeyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const dataDir = (name: string): string => {
        const dir = join(tmp.dir, SHARED_DATA_DIR ? 'shared' : name);
        mkdirSync(dir, { recursive: true });
        return dir;
      };
      const common = {
        EVENTSTORE_CONNECTION_STRING: esdb,
        MONGODB_URI: mongo,
        DATA_KEY_ENCRYPTION_KEY_FILE: kekFile,
        AUDIT_SIGNING_KEY_FILE: signingKeyFile,
        AUTH_TOKENS_FILE: tokensFile,
        // MULTI_LOG_LEVEL=log with MULTI_LOG_DIR shows the lease hand-overs in each projector's log.
        LOG_LEVEL: process.env.MULTI_LOG_LEVEL ?? 'error',
      };
      const apis = await Promise.all(['api-a', 'api-b'].map(async (name) => {
        const port = await freePort();
        return new Service(name, API_MAIN, {
          ...common, DATA_DIR: dataDir(name), PORT: String(port), HOST: '127.0.0.1', PROJECTOR: 'off',
          IDEMPOTENCY_LEASE_MS: String(IDEMPOTENCY_LEASE_MS),
        }, port);
      }));
      // Small batches and a fast SLA watcher: more interleaving of the two projectors' writes, breaches within a second.
      const projectors = ['projector-a', 'projector-b'].map((name) => new Service(name, PROJECTOR_MAIN, {
        ...common, DATA_DIR: dataDir(name), SLA_INTERVAL_MS: '200', PROJECTION_BATCH_SIZE: '50',
      }));
      services.push(...apis, ...projectors);
      await Promise.all(services.map((s) => s.start()));
      note('all four processes up');

      const unexpected: string[] = [];
      const post = async (api: Service, path: string, body: unknown, token: string, key?: string): Promise<Reply> => {
        if (!api.up) return undefined;
        try {
          const res = await fetch(`${api.base}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(20_000),
          });
          return { status: res.status, body: (await res.json()) as Record<string, unknown>, replayed: res.headers.get('idempotent-replayed') === 'true' };
        } catch {
          return undefined; // the replica died before answering (or was down): the outcome is unknown
        }
      };

      // Set-up: customers created through both replicas, and a complaint filed 30 days ago that nobody answers.
      const customers: string[] = [];
      for (let i = 0; i < CUSTOMERS; i++) {
        const res = await post(apis[i % 2]!, '/customers', { name: `Multi ${RUN} ${i}`, kind: 'customer' }, AGENT);
        expect(res?.status).toBe(201);
        customers.push(res!.body.id as string);
      }
      const filedLongAgo = new Date(Date.now() - 30 * 86_400_000).toISOString();
      const old = await post(apis[1]!, '/complaints', {
        customerId: customers[0], channel: 'phone', category: 'billing', priority: 'P2', description: `old ${RUN}`, occurredAt: filedLongAgo,
      }, AGENT);
      expect(old?.status).toBe(201);
      const oldComplaintId = old!.body.id as string;

      const bodyOf = (op: Op): { path: string; body: unknown } => {
        switch (op.kind) {
          case 'contact':
            return { path: `/customers/${op.customerId}/contacts`, body: { channel: 'phone', direction: 'inbound', purpose: 'support', summary: op.marker, outcome: 'noted' } };
          case 'complaint':
            return { path: '/complaints', body: { customerId: op.customerId, channel: 'email', category: 'delivery', priority: 'P4', description: op.marker } };
          case 'purchase':
            return { path: '/purchases', body: { customerId: op.customerId, currency: 'GBP', lines: [{ sku: 'SKU-MULTI', description: op.marker, quantity: 2, unitPrice: '4.50' }] } };
          default: {
            const never: never = op.kind;
            throw new Error(`unknown kind ${String(never)}`);
          }
        }
      };
      /** One attempt on one replica; true when the op has its answer. */
      const attempt = async (op: Op, api: Service): Promise<boolean> => {
        const { path, body } = bodyOf(op);
        const res = await post(api, path, body, AGENT, op.key);
        if (!res) return false;
        // Refused with nothing appended, so not acknowledged (a keyed op is asked again): 409 in-progress, the key is
        // reserved by a replica that died (until its lease ends); 409 concurrency-conflict, 8 clients on 10 customers
        // outlasted the bounded re-decide; 503, a store is restarting.
        const refused = (res.status === 409 && ['idempotency-key-in-progress', 'concurrency-conflict'].includes(String(res.body.type))) || res.status === 503;
        if (refused) return false;
        if (res.status !== 201) {
          unexpected.push(`${api.name} ${op.marker}: ${res.status} ${JSON.stringify(res.body)}`);
          return false;
        }
        const answer: Answer = { status: res.status, body: res.body as Answer['body'] };
        if (op.answer && JSON.stringify(op.answer) !== JSON.stringify(answer)) {
          unexpected.push(`${api.name} ${op.marker}: answered ${JSON.stringify(answer)} after ${JSON.stringify(op.answer)}`);
        }
        op.answer ??= answer;
        return true;
      };

      let seed = SEED;
      // Park-Miller: the products stay below 2^53, so every step is exact.
      const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      const kinds: Kind[] = ['contact', 'complaint', 'purchase'];
      const ops: Op[] = [];
      let stop = false;
      let retriedElsewhere = 0;
      const clients = Array.from({ length: CLIENTS }, async (_, c) => {
        for (let n = 0; !stop; n++) {
          const op: Op = {
            marker: `${RUN}c${c}n${n}`,
            kind: kinds[(c + n) % 3]!,
            customerId: customers[Math.floor(random() * customers.length)]!,
            key: (c + n) % 2 === 0 ? `k-${RUN}-${c}-${n}` : undefined,
          };
          ops.push(op);
          const first = apis[(c + n) % 2]!;
          if (await attempt(op, first)) continue;
          if (op.key) {
            // The balancer's retry: the same key and body on the other replica.
            retriedElsewhere += 1;
            await attempt(op, apis[(c + n + 1) % 2]!);
          }
          // Neither replica up (both restarting at once is possible): do not spin.
          if (!apis.some((a) => a.up)) await new Promise((r) => setTimeout(r, 50));
        }
      });

      // The victims alternate, so each replica dies in some round; the moment is random.
      const killRandomly = async (group: Service[], round: number): Promise<void> => {
        const victim = group[round % group.length]!;
        await new Promise((r) => setTimeout(r, Math.floor(random() * ROUND_MS * 0.7)));
        await victim.stop('SIGKILL');
        await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 400)));
        await victim.start().catch((error: unknown) => unexpected.push(`round ${round}: ${String(error)}`));
      };
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all([killRandomly(apis, round), killRandomly(projectors, round), new Promise((r) => setTimeout(r, ROUND_MS))]);
      }
      stop = true;
      await Promise.all(clients);
      note(`rounds done: ${ops.length} ops, ${ops.filter((o) => o.answer).length} acknowledged`);
      // A replica that failed to start again fails the run here, with its own words, not as a wait for it below.
      expect({ unexpected, exits: services.flatMap((s) => s.unexpectedExits) }).toEqual({ unexpected: [], exits: [] });

      // Every keyed op without an answer is retried, alternately on both replicas, until it has one.
      for (const [i, op] of ops.filter((o) => o.key && !o.answer).entries()) {
        let tries = i;
        await until(() => attempt(op, apis[tries++ % 2]!), 30_000, `an answer for ${op.key}`);
      }
      // Answered keyed ops, replayed on the replica that did not answer them or on either: the first answer, nothing appended.
      for (const [i, op] of ops.filter((o) => o.key && o.answer).slice(0, 10).entries()) {
        const { path, body } = bodyOf(op);
        // A request that got no response (a 20 s timeout on a machine at load 14 did) is sent again: what is checked is
        // the answer the key gets, not that the first try came back.
        let res: Reply;
        await until(async () => (res = await post(apis[i % 2]!, path, body, AGENT, op.key)) !== undefined, 60_000, `a replayed answer for ${op.key}`);
        expect({ status: res?.status, body: res?.body, replayed: res?.replayed }).toEqual({ ...op.answer, replayed: true });
      }
      expect(unexpected).toEqual([]);
      note('unanswered keys answered');
      const acknowledged = ops.filter((o) => o.answer);
      expect(acknowledged.length).toBeGreaterThan(ROUNDS * 10);
      expect(retriedElsewhere).toBeGreaterThan(0);

      // The log, decrypted, as an auditor reads it; the old complaint's breaches may take the watcher a moment.
      const readLog = async (): Promise<Array<{ type: string; position: number; data: Record<string, unknown> }>> => {
        const res = await fetch(`${apis[0]!.base}/events`, { headers: { authorization: `Bearer ${AUDITOR}` } });
        expect(res.status).toBe(200);
        return (await res.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; position: number; data: Record<string, unknown> });
      };
      const breachesOf = (log: Awaited<ReturnType<typeof readLog>>): string[] =>
        log.filter((e) => e.type === 'SlaBreached' && e.data.complaintId === oldComplaintId).map((e) => String(e.data.kind)).sort();
      let log = await readLog();
      await until(async () => breachesOf((log = await readLog())).length >= 2, 60_000, 'both breaches of the old complaint');

      const counts = new Map<string, number>();
      const count = (marker: unknown, type: string): void => {
        if (typeof marker === 'string' && marker.startsWith(RUN)) counts.set(`${type} ${marker}`, (counts.get(`${type} ${marker}`) ?? 0) + 1);
      };
      for (const e of log) {
        if (e.type === 'ContactLogged') count(e.data.summary, 'contact');
        if (e.type === 'ComplaintFiled') count(e.data.description, 'complaint');
        if (e.type === 'PurchaseRecorded') for (const line of (e.data.lines as Array<{ description?: unknown }>)) count(line.description, 'purchase');
      }
      const times = (o: Op): number => counts.get(`${o.kind} ${o.marker}`) ?? 0;
      const lost = acknowledged.filter((o) => times(o) !== 1).map((o) => `${o.kind} ${o.marker}: ${times(o)}`);
      const doubled = ops.filter((o) => times(o) > 1).map((o) => `${o.kind} ${o.marker}${o.key ? ' (keyed)' : ''}: ${times(o)}`);
      expect({ lost, doubled }).toEqual({ lost: [], doubled: [] });
      expect(breachesOf(log)).toEqual(['first-response', 'resolution']);

      // Read models: what the two projectors built across the kills equals a clean rebuild of the same log.
      // The check's own reads are not under test: on a loaded machine (CI beside other jobs) a whole-log read took over
      // the 5 s default and failed a run whose processes had done everything right.
      const config = loadConfig({ ...common, DATA_DIR: dataDir('auditor'), STORE_TIMEOUT_MS: '120000' });
      const events = await openEventStoreWithKeys(config, systemClock);
      const served = await MongoReadModelStore.connect(mongo, database);
      const clean = await MongoReadModelStore.connect(mongo, `${database}_clean`);
      try {
        const head = await events.headPosition();
        const caughtUp = async (): Promise<boolean> => {
          const positions = await Promise.all(ALL_PROJECTIONS.map(async (p) => (await served.getCheckpoint(checkpointName(p)))?.position ?? 0));
          return positions.every((p) => p >= head);
        };
        note(`log read, head ${head}`);
        await until(caughtUp, 120_000, `projections to reach ${head}`);
        note('projections caught up');
        await Promise.all(projectors.map((p) => p.stop('SIGTERM')));
        // Nothing was appended meanwhile (the APIs are idle, the only due deadlines were breached already).
        expect(await events.headPosition()).toBe(head);
        const rebuilt = await cleanRebuildInto(events, clean, head);
        const servedModels = await dumpReadModels(served);
        // Which collections differ tells which projection went wrong, before the (long) diff.
        const differing = Object.keys(rebuilt).filter((c) => JSON.stringify(servedModels[c]) !== JSON.stringify(rebuilt[c]));
        if (differing.length > 0) process.stderr.write(`multi-process: read models differing from a clean rebuild: ${differing.join(', ')}\n`);
        expect(servedModels).toEqual(rebuilt);
        // Not two empty sets: every acknowledged command left at least its timeline entry.
        expect(Object.values(rebuilt).flat().length).toBeGreaterThan(acknowledged.length);
        // Kept when a comparison failed, for a look; on real servers a passing run leaves nothing behind.
        await Promise.all([clean.database.dropDatabase(), served.database.dropDatabase()]);
      } finally {
        await Promise.all([served.close(), clean.close(), events.close()]);
      }

      expect(services.flatMap((s) => s.unexpectedExits)).toEqual([]);
      await Promise.all(apis.map((a) => a.stop('SIGTERM')));
      // TODO(feat/keys): fails on main until the data keys live in MongoDB (every process creates DATA_DIR/keys.db
      // today). MULTI_EXPECT_NO_FILES=0 skips this assertion only; the default expects no files, as issue 14 does.
      if (EXPECT_NO_FILES) {
        expect(services.flatMap((s) => databaseFiles(s.env.DATA_DIR!).map((f) => `${s.name}: ${f}`))).toEqual([]);
      }
    } finally {
      await Promise.all(services.map((s) => s.stop('SIGKILL')));
      await doubles?.stop();
      tmp.remove();
    }
  });
});
