import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

describe('what-if SLA replay', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: new Date('2026-11-23T08:00:00Z') });
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts breaches per priority under a candidate policy vs the one in force, and appends nothing', async () => {
    const customerId = (await t.request('POST', '/customers', { body: { name: 'W', kind: 'customer' } })).body.id;
    const file = async (priority: string): Promise<string> =>
      (await t.request('POST', '/complaints', { body: { customerId, channel: 'phone', category: 'c', priority, description: 'd' } })).body.id;
    const fast = await file('P1');
    const slow = await file('P1');
    const p3 = await file('P3');
    t.clock.set(new Date('2026-11-23T08:30:00Z'));
    await t.request('POST', `/complaints/${fast}/respond`, { body: { message: 'quick' } });
    t.clock.set(new Date('2026-11-23T09:30:00Z'));
    await t.request('POST', `/complaints/${slow}/respond`, { body: { message: 'late' } });
    await t.request('POST', `/complaints/${p3}/resolve`, { body: { resolution: 'done' } });
    t.clock.set(new Date('2026-11-23T09:40:00Z'));
    const head = (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition;

    const candidate = {
      version: 'sla-candidate',
      targets: {
        P1: { firstResponseMinutes: 90, resolutionMinutes: 90 },
        P2: { firstResponseMinutes: 240, resolutionMinutes: 1440 },
        P3: { firstResponseMinutes: 60, resolutionMinutes: 4320 },
        P4: { firstResponseMinutes: 1440, resolutionMinutes: 10080 },
      },
    };
    const res = await t.request('POST', '/analytics/sla-whatif', { token: TOKENS.analyst, body: { policy: candidate, from: '2026-11-23T00:00:00Z', to: '2026-11-24T00:00:00Z' } });
    expect(res.status).toBe(200);
    const byPriority = Object.fromEntries(res.body.priorities.map((p: { priority: string }) => [p.priority, p]));
    // In force (P1 60/240): the late response breaches first response; nothing else is late yet at 09:40.
    expect(byPriority.P1).toEqual({
      priority: 'P1', complaints: 2,
      current: { breached: 1, firstResponse: 1, resolution: 0, breachRatio: 0.5 },
      // Candidate (P1 90/90): both responses in time (09:30 is not after 09:30), but both resolutions are overdue at 09:40 (due 09:30).
      candidate: { breached: 2, firstResponse: 0, resolution: 2, breachRatio: 1 },
    });
    // P3 resolved at 09:30: in time under 480/4320; the candidate's 60-minute first response is missed.
    expect(byPriority.P3).toMatchObject({ complaints: 1, current: { breached: 0 }, candidate: { breached: 1, firstResponse: 1, resolution: 0 } });
    expect(byPriority.P2).toMatchObject({ complaints: 0, current: { breachRatio: 0 } });
    expect(res.body).toMatchObject({ currentPolicy: 'sla-2026-01', candidatePolicy: 'sla-candidate' });
    expect((await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition).toBe(head);

    const invalid = await t.request('POST', '/analytics/sla-whatif', { token: TOKENS.analyst, body: { policy: { version: 'x', targets: {} }, from: '2026-11-23T00:00:00Z', to: '2026-11-24T00:00:00Z' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors[0].field).toBe('policy');
    expect((await t.request('POST', '/analytics/sla-whatif', { body: { policy: candidate, from: '2026-11-23T00:00:00Z', to: '2026-11-24T00:00:00Z' } })).status).toBe(403);
  });
});
