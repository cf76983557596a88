import { ALL_PROJECTIONS } from '@crm/read-models';
import { DEFAULT_PROJECTOR_THREAD_NICE, loadConfig, ManualClock } from '@crm/runtime';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createApp } from '../../apps/api/src/app.factory';
import { startEventStoreDbDouble } from '../doubles/eventstoredb-grpc-double';
import { startMongoDouble } from '../doubles/mongo-wire-double';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/**
 * `npm start` as it runs: the projections and the SLA watcher in a worker thread of the API process (PROJECTOR=thread),
 * on their own connections and the system clock. Everything the API offers about them must work across the thread:
 * read-your-writes, status, metrics, rebuild, SLA breaches, and a crashed thread must come back without losing or
 * repeating anything.
 */
jest.setTimeout(90_000);

/** Field 19 of /proc/self/task/<tid>/stat (after the command name in parentheses, which may hold spaces). */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** This process's threads whose nice value is not `base`. */
function threadsBelow(base: number): number[] {
  return readdirSync('/proc/self/task').map(Number).filter((tid) => niceOf(tid) !== base);
}

(existsSync('/proc/thread-self') ? describe : describe.skip)('projector threads below the API (PROJECTOR_THREAD_NICE)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // The product's default (the test app otherwise keeps the threads at the API's priority).
    t = await startTestApp({ projectorThread: true, env: { PROJECTOR_THREAD_NICE: String(DEFAULT_PROJECTOR_THREAD_NICE), PROJECTOR_THREADS: '2', READ_WAIT_MS: '10000' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('lowers each projector thread alone by 10 steps by default; the API thread and the rest of the process keep theirs', async () => {
    expect(DEFAULT_PROJECTOR_THREAD_NICE).toBe(10);
    const base = niceOf(process.pid);
    const lowered = threadsBelow(base);
    // PROJECTOR_THREADS=2: the two projector threads and nothing else.
    expect(lowered).toHaveLength(2);
    for (const tid of lowered) expect(niceOf(tid)).toBe(Math.min(19, base + 10));
    // And the lowered threads still project: a read-your-writes query answers.
    const created = await t.request('POST', '/customers', { body: { name: 'Nice Reader', kind: 'customer' } });
    expect(created.status).toBe(201);
    const read = await t.request('GET', `/customers/${created.body.id as string}?minPosition=${created.body.position as number}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: created.body.id, name: 'Nice Reader' });
  });
});

describe('projections in a worker thread (PROJECTOR=thread)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ projectorThread: true, env: { SLA_INTERVAL_MS: '50', READ_WAIT_MS: '10000', PROJECTOR_THREADS: '2' } });
  });

  afterAll(async () => {
    await t.close();
  });

  const registerCustomer = async (name: string): Promise<string> => {
    const res = await t.request('POST', '/customers', { body: { name, email: `${name.toLowerCase().replace(/\W/g, '.')}@example.com`, kind: 'customer' } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  const logContact = async (id: string, summary: string): Promise<number> => {
    const res = await t.request('POST', `/customers/${id}/contacts`, {
      body: { channel: 'phone', direction: 'inbound', purpose: 'support', summary, outcome: 'answered' },
    });
    expect(res.status).toBe(201);
    return res.body.position as number;
  };

  const waitUntil = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('answers a query with minPosition once the thread has applied the command', async () => {
    const id = await registerCustomer('Thread Reader');
    const position = await logContact(id, 'asked about the thread');
    const timeline = await t.request('GET', `/customers/${id}/timeline?minPosition=${position}`);
    expect(timeline.status).toBe(200);
    expect(Number(timeline.headers.get('x-read-model-position'))).toBeGreaterThanOrEqual(position);
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toEqual(['ContactLogged', 'CustomerRegistered']);
    expect(timeline.body.items[0].data.summary).toBe('asked about the thread');
  });

  (existsSync('/proc/thread-self') ? it : it.skip)('keeps every thread at the process priority with PROJECTOR_THREAD_NICE=0', () => {
    // This suite's app runs at PROJECTOR_THREAD_NICE=0 (the test app's setting), its threads unlowered.
    expect(threadsBelow(niceOf(process.pid))).toEqual([]);
  });

  it('reports every projection of the thread in GET /projections, /health/ready and /metrics', async () => {
    const id = await registerCustomer('Status Reader');
    const position = await logContact(id, 'status please');
    // Both projections asserted on below: the profile (status, checkpoint) and the timeline (events applied, metrics).
    expect((await t.request('GET', `/customers/${id}?minPosition=${position}`)).status).toBe(200);
    expect((await t.request('GET', `/customers/${id}/timeline?minPosition=${position}`)).status).toBe(200);
    const status = await t.request('GET', '/projections');
    expect(status.status).toBe(200);
    const byName = new Map<string, { status: string; checkpoint: number; eventsApplied: number | null }>(
      status.body.projections.map((p: { name: string }) => [p.name, p]),
    );
    expect(byName.size).toBe(ALL_PROJECTIONS.length);
    expect(byName.get('customer_profiles')).toMatchObject({ status: 'live' });
    expect(byName.get('customer_profiles')!.checkpoint).toBeGreaterThanOrEqual(position);
    // eventsApplied comes from the runner in the thread (a separate projector process would report null).
    expect(byName.get('customer_timelines')!.eventsApplied).toBeGreaterThanOrEqual(2);
    const ready = await t.request('GET', '/health/ready', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.projections).toEqual({ failed: [] });
    const metrics = await t.request('GET', '/metrics', { token: null });
    const applied = /crm_projection_events_applied_total\{projection="customer_timelines"\} (\d+)/.exec(String(metrics.body));
    expect(Number(applied?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('rebuilds blue/green in the thread and serves the new build with the same documents', async () => {
    const id = await registerCustomer('Rebuild Reader');
    const position = await logContact(id, 'before the rebuild');
    const before = await t.request('GET', `/customers/${id}/timeline?minPosition=${position}`);
    const rebuild = await t.request('POST', '/projections/customer_timelines/rebuild', { token: TOKENS.admin, headers: { 'idempotency-key': 'thread-rebuild-1' } });
    expect(rebuild.status).toBe(202);
    const generation = rebuild.body.generation as number;
    await waitUntil('the rebuilt timeline to serve', async () => {
      const list = await t.request('GET', '/projections');
      const timeline = list.body.projections.find((p: { name: string }) => p.name === 'customer_timelines');
      return timeline.serving.generation === generation ? timeline : undefined;
    });
    const after = await t.request('GET', `/customers/${id}/timeline?minPosition=${position}`);
    expect(after.status).toBe(200);
    expect(after.body.items).toEqual(before.body.items);
  });

  it('runs the SLA watcher in the thread: a complaint filed a day late is breached twice, once each', async () => {
    const id = await registerCustomer('Late Complainer');
    const filedAt = new Date(Date.now() - 24 * 3600_000).toISOString();
    const filed = await t.request('POST', '/complaints', {
      body: { customerId: id, channel: 'email', category: 'delivery', priority: 'P1', description: 'never arrived', occurredAt: filedAt },
    });
    expect(filed.status).toBe(201);
    const complaintId = filed.body.id as string;
    const breaches = await waitUntil('two breaches', async () => {
      const res = await t.request('GET', '/sla/breaches');
      const mine = res.status === 200 ? res.body.items.filter((b: { complaintId: string }) => b.complaintId === complaintId) : [];
      return mine.length === 2 ? mine : undefined;
    });
    expect(breaches.map((b: { complaintId: string; kind: string }) => [b.complaintId, b.kind]).sort()).toEqual([
      [complaintId, 'first-response'], [complaintId, 'resolution'],
    ]);
    const stream = await t.request('GET', `/streams/complaint-${complaintId}/events`, { token: TOKENS.auditor });
    expect(stream.body.events.filter((e: { type: string }) => e.type === 'SlaBreached')).toHaveLength(2);
    const metrics = await t.request('GET', '/metrics', { token: null });
    expect(String(metrics.body)).toMatch(/crm_sla_breaches_recorded_total\{kind="first-response"\} [1-9]/);
  });

  it('starts a crashed thread again from its checkpoints: commands go on meanwhile, nothing is lost or applied twice', async () => {
    const id = await registerCustomer('Crash Survivor');
    await logContact(id, 'before the crash');
    await t.thread!.terminate();
    // The API thread keeps taking commands while the projector thread is down.
    const positions: number[] = [];
    for (let i = 0; i < 5; i += 1) positions.push(await logContact(id, `during the outage ${i}`));
    const last = positions.at(-1)!;
    const timeline = await waitUntil('the restarted thread to catch up', async () => {
      const res = await t.request('GET', `/customers/${id}/timeline?minPosition=${last}`);
      return res.status === 200 ? res.body : undefined;
    });
    const summaries = timeline.items.filter((e: { type: string }) => e.type === 'ContactLogged').map((e: { data: { summary: string } }) => e.data.summary);
    expect(summaries).toEqual(['during the outage 4', 'during the outage 3', 'during the outage 2', 'during the outage 1', 'during the outage 0', 'before the crash']);
    const profile = await t.request('GET', `/customers/${id}?minPosition=${last}`);
    expect(profile.status).toBe(200);
    // Waited for exactly what is asserted: every projection of the restarted thread live again and past the outage
    // (the two queries above only waited for two of them).
    const projections = await waitUntil('every projection to be live past the outage', async () => {
      const list = (await t.request('GET', '/projections')).body.projections as Array<{ name: string; status: string; checkpoint: number }>;
      return list.length === ALL_PROJECTIONS.length && list.every((p) => p.status === 'live' && p.checkpoint >= last) ? list : undefined;
    });
    expect(projections.map((p) => p.status)).toEqual(Array(ALL_PROJECTIONS.length).fill('live'));
  });

  it('refuses an injected clock in thread mode instead of silently running the watcher on another clock', async () => {
    const config = loadConfig({ DATA_DIR: `${t.dataDir}-unused`, PROJECTOR: 'thread', LOG_LEVEL: 'silent' });
    await expect(createApp({ config, clock: new ManualClock(new Date('2026-11-23T10:00:00Z')) })).rejects.toThrow(/PROJECTOR=embedded/);
  });
});

/** The thread opens its own connections: with the real servers' adapters too (the drivers against the doubles). */
describe.each([
  ['MONGODB_URI (read models in MongoDB)', 'mongo'],
  ['EVENTSTORE_CONNECTION_STRING (log in EventStoreDB)', 'esdb'],
] as const)('projections in a worker thread with %s', (_label, kind) => {
  let t: TestApp;
  let stopDouble: () => Promise<void>;

  beforeAll(async () => {
    let env: Record<string, string>;
    if (kind === 'mongo') {
      const mongo = await startMongoDouble();
      stopDouble = () => mongo.stop();
      env = { MONGODB_URI: mongo.uri.replace('/?', '/crm_thread?') };
    } else {
      const esdb = await startEventStoreDbDouble();
      stopDouble = () => esdb.stop();
      env = { EVENTSTORE_CONNECTION_STRING: esdb.connectionString };
    }
    t = await startTestApp({ projectorThread: true, env: { ...env, PROJECTOR_THREADS: '2' } });
  });

  afterAll(async () => {
    await t.close();
    await stopDouble();
  });

  it('answers read-your-writes queries from the read models the thread builds', async () => {
    const created = await t.request('POST', '/customers', { body: { name: 'Tess Thread', kind: 'customer', ownerId: 'agent-ana' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const contact = await t.request('POST', `/customers/${id}/contacts`, {
      body: { channel: 'chat', direction: 'outbound', purpose: 'follow-up', summary: 'checked in', outcome: 'answered' },
    });
    const profile = await t.request('GET', `/customers/${id}?minPosition=${contact.body.position}`);
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id, name: 'Tess Thread', ownerId: 'agent-ana', outboundContactsLast7Days: 1 });
    const timeline = await t.request('GET', `/customers/${id}/timeline?minPosition=${contact.body.position}`);
    expect(timeline.body.items.map((e: { type: string }) => e.type)).toEqual(['ContactLogged', 'CustomerRegistered']);
    // The two reads above waited for two projections; the others may still be catching up: wait for what is asserted.
    const deadline = Date.now() + 30_000;
    let statuses: string[] = [];
    while (Date.now() < deadline) {
      statuses = ((await t.request('GET', '/projections')).body.projections as Array<{ status: string; checkpoint: number }>)
        .filter((p) => p.status !== 'live' || p.checkpoint < contact.body.position).map((p) => p.status);
      if (statuses.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(statuses).toEqual([]);
  });
});
