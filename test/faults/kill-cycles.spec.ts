import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, openEventStoreWithKeys, systemClock } from '@crm/runtime';
import { SqliteReadModelStore } from '@crm/read-models';
import { checkpointsIn, cleanRebuild, dumpReadModels, until } from '../support/read-model-state';
import { makeTempDir } from '../support/temp-dir';
import { freePort } from '../support/free-port';

/**
 * The server (`node dist/…/main.js`, as `npm start` runs it: projections in the worker thread) is killed with SIGKILL
 * at random moments while 8 clients write contacts, half of them with an Idempotency-Key, and while customers are
 * erased; it is started again, the clients retry what got no answer with the same key, and the cycle repeats.
 * At the end: every acknowledged command is in the log exactly once, every keyed command exactly once however often
 * it was retried, every erasure that was started is complete, and the read models equal a clean rebuild of the log.
 *
 * Needs `npm run build` (CI builds before the tests). FAULT_CYCLES sets the number of kills (default 25).
 */
const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'apps', 'api', 'apps', 'api', 'src', 'main.js');
const CYCLES = Number(process.env.FAULT_CYCLES ?? 25);
const WRITERS = 8;
const CUSTOMERS = 12;
const TOKEN = `fault-agent-${randomBytes(12).toString('base64url')}`;
const ADMIN = `fault-admin-${randomBytes(12).toString('base64url')}`;
const AUDITOR = `fault-auditor-${randomBytes(12).toString('base64url')}`;
/** A run id in an alphabet no uuid, position or timestamp uses, so a marker can only match what this test wrote. */
const RUN = `kq${randomBytes(9).toString('base64url').replace(/[^a-zA-Z]/g, 'x')}`;

interface Op {
  readonly marker: string;
  readonly customerId: string;
  readonly key?: string;
  /** The response of the first answered attempt (keyed ops are retried until they have one). */
  answer?: { status: number; body: { id: string; streamRevision: number; position: number } };
}


const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

const describeBuilt = existsSync(MAIN) ? describe : describe.skip;
if (!existsSync(MAIN)) process.stderr.write(`kill-cycles: skipped, ${MAIN} is missing (run npm run build first)\n`);

describeBuilt('kill -9 of the server during keyed and unkeyed writes and during erasure', () => {
  jest.setTimeout(900_000);

  it(`loses nothing and doubles nothing over ${CYCLES} SIGKILL cycles`, async () => {
    const tmp = makeTempDir('crm-faults-kill-');
    const dataDir = join(tmp.dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const tokensFile = join(tmp.dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify([
      { token: TOKEN, id: 'agent-fault', role: 'agent' },
      { token: ADMIN, id: 'admin-fault', role: 'admin' },
      { token: AUDITOR, id: 'auditor-fault', role: 'auditor' },
    ]));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let child: ChildProcess | undefined;
    let stderr = '';
    const start = async (): Promise<void> => {
      child = spawn(process.execPath, [MAIN], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, AUTH_TOKENS_FILE: tokensFile, LOG_LEVEL: 'error', SLA_INTERVAL_MS: '200' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      const me = child;
      await until(async () => {
        if (me.exitCode !== null) throw new Error(`server exited with ${me.exitCode}: ${stderr}`);
        return (await fetch(`${base}/health/live`).then((r) => r.ok, () => false));
      }, 60_000, 'server to listen');
    };
    const kill = async (): Promise<void> => {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
      child = undefined;
    };
    const post = async (path: string, body: unknown, token: string, key?: string): Promise<{ status: number; body: any } | undefined> => { // eslint-disable-line @typescript-eslint/no-explicit-any
      try {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: await res.json() };
      } catch {
        return undefined; // the server died before answering
      }
    };

    const ops: Op[] = [];
    const erasures: Array<{ customerId: string; key: string; done: boolean }> = [];
    try {
      await start();
      const customers: string[] = [];
      for (let i = 0; i < CUSTOMERS; i++) {
        const res = await post('/customers', { name: `Fault ${RUN} ${i}`, kind: 'customer' }, TOKEN);
        expect(res?.status).toBe(201);
        customers.push(res!.body.id as string);
      }

      let seed = 7;
      const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const contactBody = (op: Op): unknown => ({ channel: 'phone', direction: 'inbound', purpose: 'support', summary: op.marker, outcome: 'noted' });
      const send = async (op: Op): Promise<void> => {
        const res = await post(`/customers/${op.customerId}/contacts`, contactBody(op), TOKEN, op.key);
        if (!res) return;
        if (res.status === 409 && op.key) return; // the key is still in progress elsewhere: retried later
        if (res.status >= 500) return; // a store that is closing under the kill: the client retries
        expect([res.status, res.body]).toEqual([201, expect.objectContaining({ id: expect.any(String) })]);
        if (op.answer) {
          // A keyed op answered before: the same key must answer the same outcome.
          expect(res).toEqual(op.answer);
        } else {
          op.answer = res as Op['answer'];
        }
      };

      let killedDuringErasure = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        if (!child) await start();
        // Keyed ops and erasures without an answer are retried first, with the same key and body.
        for (const op of ops.filter((o) => o.key && !o.answer)) await send(op);
        for (const e of erasures.filter((x) => !x.done)) {
          const res = await post(`/customers/${e.customerId}/erase`, { reason: `fault test ${RUN}` }, ADMIN, e.key);
          if (res && (res.status === 201 || res.status === 410)) e.done = true;
        }
        // A few answered keyed ops are replayed: nothing appended, the same answer.
        for (const op of ops.filter((o) => o.key && o.answer).slice(-3)) await send(op);

        let stop = false;
        const writers = Array.from({ length: WRITERS }, async (_, w) => {
          for (let n = 0; !stop; n++) {
            const op: Op = {
              marker: `${RUN}c${cycle}w${w}n${n}`,
              customerId: customers[Math.floor(random() * customers.length)]!,
              key: (w + n) % 2 === 0 ? `k-${RUN}-${cycle}-${w}-${n}` : undefined,
            };
            ops.push(op);
            await send(op);
          }
        });
        let erasure: Promise<unknown> | undefined;
        if (cycle % 5 === 2) {
          const victim = await post('/customers', { name: `Victim ${RUN} ${cycle}`, email: `victim${cycle}@${RUN}.example`, kind: 'customer' }, TOKEN);
          if (victim?.status === 201) {
            await post(`/customers/${victim.body.id}/contacts`, { channel: 'email', direction: 'inbound', purpose: 'support', summary: `victim summary ${RUN} ${cycle}`, outcome: 'x' }, TOKEN);
            const e = { customerId: victim.body.id as string, key: `erase-${RUN}-${cycle}`, done: false };
            erasures.push(e);
            erasure = post(`/customers/${e.customerId}/erase`, { reason: `fault test ${RUN}` }, ADMIN, e.key).then((res) => {
              if (res && (res.status === 201 || res.status === 410)) e.done = true;
            });
          }
        }
        // An erasure cycle kills within the erasure's own few tens of milliseconds (key destroyed, CustomerErased
        // appended, read models masked, files compacted), so some kills land between its steps.
        await new Promise((r) => setTimeout(r, erasure ? Math.floor(random() * 60) : 150 + Math.floor(random() * 600)));
        const erasing = erasure !== undefined && erasures.at(-1)?.done === false;
        await kill();
        if (erasing) killedDuringErasure += 1;
        stop = true;
        await Promise.all(writers);
        await erasure;
      }

      // Last start: everything unanswered is retried until it has its answer.
      await start();
      for (const op of ops.filter((o) => o.key && !o.answer)) {
        await until(async () => { await send(op); return op.answer !== undefined; }, 30_000, `answer for ${op.key}`);
      }
      for (const e of erasures.filter((x) => !x.done)) {
        const res = await post(`/customers/${e.customerId}/erase`, { reason: `fault test ${RUN}` }, ADMIN, e.key);
        expect([201, 410]).toContain(res?.status);
      }

      const acknowledged = ops.filter((o) => o.answer);
      expect(acknowledged.length).toBeGreaterThan(CYCLES * 5);
      expect(ops.filter((o) => o.key && o.answer).length).toBeGreaterThan(0);

      // The log, decrypted, through the auditor's trail of each customer.
      const counts = new Map<string, number>();
      for (const id of customers) {
        const res = await fetch(`${base}/customers/${id}/trail`, { headers: { authorization: `Bearer ${AUDITOR}` } });
        expect(res.status).toBe(200);
        const trail = (await res.json()) as { events: Array<{ type: string; data: { summary?: string; contactId?: string } }> };
        for (const e of trail.events) {
          if (e.type === 'ContactLogged' && typeof e.data.summary === 'string' && e.data.summary.startsWith(RUN)) {
            counts.set(e.data.summary, (counts.get(e.data.summary) ?? 0) + 1);
          }
        }
      }
      const lost = acknowledged.filter((o) => counts.get(o.marker) !== 1).map((o) => `${o.marker}: ${counts.get(o.marker) ?? 0}`);
      const doubled = ops.filter((o) => (counts.get(o.marker) ?? 0) > 1).map((o) => `${o.marker}${o.key ? ' (keyed)' : ''}: ${counts.get(o.marker)}`);
      expect({ lost, doubled }).toEqual({ lost: [], doubled: [] });

      // Every erasure that was started is complete: CustomerErased once, no name left in the profile or search.
      for (const e of erasures) {
        const res = await fetch(`${base}/customers/${e.customerId}/trail`, { headers: { authorization: `Bearer ${AUDITOR}` } });
        const trail = (await res.json()) as { events: Array<{ type: string }> };
        expect({ id: e.customerId, erased: trail.events.filter((x) => x.type === 'CustomerErased').length }).toEqual({ id: e.customerId, erased: 1 });
      }
      const search = await fetch(`${base}/customers?q=${encodeURIComponent(`Victim ${RUN}`)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(((await search.json()) as { items: unknown[] }).items).toEqual([]);
      if (CYCLES >= 10) expect(killedDuringErasure).toBeGreaterThan(0);

      await kill();
      // The read models the thread built across all the kills equal a clean rebuild of the log.
      const readModelsFile = join(dataDir, 'read-models.db');
      // Opened as the server opens it (personal fields decrypted), else the rebuild would project ciphertext.
      const events = await openEventStoreWithKeys(loadConfig({ DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'NORMAL' }), systemClock);
      const head = await events.headPosition();
      await start();
      await until(async () => (await checkpointsIn(readModelsFile)).every((c) => c >= head), 120_000, 'projections to reach the head');
      await kill();
      const survived = new SqliteReadModelStore(readModelsFile);
      const rebuilt = await cleanRebuild(events, join(tmp.dir, 'clean.db'), head);
      expect(await dumpReadModels(survived)).toEqual(rebuilt);
      await survived.close();
      await events.close();
    } finally {
      await kill();
      tmp.remove();
    }
  });
});
