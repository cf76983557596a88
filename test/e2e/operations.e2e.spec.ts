import { ALL_PROJECTIONS } from '@crm/read-models';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

describe('operations: projections, metrics, readiness, read-your-writes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { READ_WAIT_MS: '150' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists every projection with version, checkpoint, lag and status, caught up after a write', async () => {
    const created = await t.request('POST', '/customers', { body: { name: 'Ops', kind: 'customer' } });
    await t.request('GET', `/customers/${created.body.id}?minPosition=${created.body.position}`);
    await t.request('GET', `/customers/${created.body.id}/timeline?minPosition=${created.body.position}`);
    const res = await t.request('GET', '/projections', { token: TOKENS.admin });
    expect(res.status).toBe(200);
    expect(res.body.headPosition).toBe(created.body.position);
    const names = res.body.projections.map((p: { name: string }) => p.name).sort();
    expect(names).toEqual(ALL_PROJECTIONS.map((p) => p.name).sort());
    expect(names).toEqual(expect.arrayContaining(['complaints', 'customer_profiles', 'customer_streams', 'customer_timelines', 'follow_ups', 'loyalty', 'sla_breaches']));
    const profiles = res.body.projections.find((p: { name: string }) => p.name === 'customer_profiles');
    expect(profiles).toMatchObject({ version: 1, checkpoint: created.body.position, lagEvents: 0, lagMs: 0, status: 'live', lastError: null });
    expect(profiles.eventsApplied).toBeGreaterThanOrEqual(1);
  });

  it('answers 503 read-model-behind with Retry-After when minPosition is not reached in time', async () => {
    const res = await t.request('GET', '/complaints?minPosition=999999');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ type: 'read-model-behind', projection: 'complaints', minPosition: 999999 });
    expect(res.headers.get('retry-after')).toBe('1');
    const header = await t.request('GET', '/complaints', { headers: { 'x-min-position': '999999' } });
    expect(header.status).toBe(503);
    expect((await t.request('GET', '/complaints?minPosition=-1')).status).toBe(400);
  });

  it('exposes Prometheus metrics without a token: command and query latency, appends, projection lag, breaches', async () => {
    const created = await t.request('POST', '/customers', { body: { name: 'Metered', kind: 'customer' } });
    const queried = await t.request('GET', '/complaints');
    expect(queried.status).toBe(200);
    for (const answered of [created, queried]) expect(answered.headers.get('server-timing')).toMatch(/^app;dur=\d+\.\d{2}$/);
    const res = await t.request('GET', '/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = String(res.body);
    expect(text).toMatch(/crm_command_duration_seconds_count\{method="POST",route="\/customers",status="201"\} \d+/);
    expect(text).toMatch(/crm_query_duration_seconds_count\{method="GET",route="\/complaints",status="200"\} [1-9]\d*/);
    expect(text).not.toMatch(/crm_command_duration_seconds_count\{method="GET"/);
    expect(text).toMatch(/crm_events_appended_total \d+/);
    expect(text).toMatch(/crm_projection_lag_events\{projection="customer_profiles"\} \d+/);
    expect(text).toContain('crm_sla_breaches_recorded_total');
    // Known series exist before their first increment (0, not absent), as the hand-written registry's did.
    expect(text).toMatch(/^crm_sla_breaches_recorded_total\{kind="resolution"\} \d+$/m);
    expect(text).toMatch(/^crm_projection_events_applied_total\{projection="loyalty"\} \d+$/m);
  });

  it('exposes the standard process and runtime metrics beside its own: CPU, memory, heap, GC, event-loop lag', async () => {
    const text = String((await t.request('GET', '/metrics', { token: null })).body);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^process_cpu_system_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes [1-9]\d*/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes [1-9]\d*/m);
    expect(text).toMatch(/^nodejs_heap_space_size_used_bytes\{space="old"\} \d+/m);
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    // Each series once: one registry per app, no second registration of prom-client's defaults.
    expect(text.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
    expect(text.match(/^# TYPE crm_command_duration_seconds /gm)).toHaveLength(1);
  });

  it('is ready when both stores answer', async () => {
    const res = await t.request('GET', '/health/ready', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', readModelStore: { ok: true }, projections: { failed: [] } });
  });

  it('keeps queries to the roles that may see them', async () => {
    expect((await t.request('GET', '/follow-ups', { token: TOKENS.analyst })).status).toBe(403);
    expect((await t.request('GET', '/sla/breaches', { token: TOKENS.analyst })).status).toBe(200);
    expect((await t.request('GET', '/projections', { token: null })).status).toBe(401);
    expect((await t.request('GET', '/customers')).status).toBe(400);
  });

  it('rebuilds a projection blue/green over HTTP: the old build serves until the new one has caught up', async () => {
    const created = await t.request('POST', '/customers', { body: { name: 'Rebuilt', kind: 'customer', ownerId: 'agent-ana' } });
    await t.request('GET', `/customers/${created.body.id}?minPosition=${created.body.position}`);
    expect((await t.request('POST', '/projections/customer_profiles/rebuild')).status).toBe(403);
    expect((await t.request('POST', '/projections/nope/rebuild', { token: TOKENS.admin })).status).toBe(404);
    const res = await t.request('POST', '/projections/customer_profiles/rebuild', { token: TOKENS.admin });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ projection: 'customer_profiles', generation: 1 });
    const deadline = Date.now() + 10_000;
    let profiles: { serving: { generation: number }; rebuild: unknown } | undefined;
    while (Date.now() < deadline) {
      const list = await t.request('GET', '/projections', { token: TOKENS.admin });
      profiles = list.body.projections.find((p: { name: string }) => p.name === 'customer_profiles');
      if (profiles?.serving.generation === 1) break;
      // The profile stays readable throughout the rebuild.
      expect((await t.request('GET', `/customers/${created.body.id}`)).body.name).toBe('Rebuilt');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(profiles).toMatchObject({ serving: { version: 1, generation: 1 }, rebuild: null });
    expect((await t.request('GET', `/customers/${created.body.id}`)).body).toMatchObject({ name: 'Rebuilt', ownerId: 'agent-ana' });
  });
});
