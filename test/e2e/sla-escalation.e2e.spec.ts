import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/**
 * Issue 16, item 4 through the HTTP app: escalation steps published with PUT /sla/policies, recorded by the SLA
 * watcher once each (also after another pass and a restart on the same data dir), shown on the board, on the
 * complaint and in /metrics; a waiting complaint does not escalate and its step moves by the wait; a complaint filed
 * under the configured policy (no steps) never escalates. P2 on 24x7: resolution 1440 minutes, so for a complaint
 * filed Monday 09:00Z the 75 % step falls due Tuesday 03:00Z and the 100 % one Tuesday 09:00Z. The watcher runs only
 * when the test calls checkOnce(), on the manual clock; read models are read with minPosition.
 */
describe('SLA escalation steps over HTTP', () => {
  let t: TestApp;
  let last = 0;
  const MON = '2026-11-23';
  const TUE = '2026-11-24';
  const at = (hhmm: string, day = MON): string => `${day}T${hhmm}:00.000Z`;
  const setClock = (hhmm: string, day = MON): void => t.clock.set(new Date(at(hhmm, day)));

  const POLICY_VERSION = 'sla-escalation-e2e-7c41';
  const WARN = 'warn-supervisor-75-7c41';
  const BREACH = 'breach-owner-100-7c41';
  const policy = {
    version: POLICY_VERSION,
    targets: {
      P1: { firstResponseMinutes: 60, resolutionMinutes: 240, calendar: '24x7' },
      P2: { firstResponseMinutes: 240, resolutionMinutes: 1440, calendar: '24x7' },
      P3: { firstResponseMinutes: 480, resolutionMinutes: 4320, calendar: '24x7' },
      P4: { firstResponseMinutes: 1440, resolutionMinutes: 10080, calendar: '24x7' },
    },
    pauseWhen: ['awaiting-customer'],
    escalations: [
      { name: WARN, kind: 'resolution', atPercent: 75, notify: 'supervisor' },
      { name: BREACH, kind: 'resolution', atPercent: 100, notify: 'owner' },
    ],
  };

  const send = async (method: string, path: string, body?: unknown, token: string = TOKENS.agent): Promise<{ id: string; position: number }> => {
    const res = await t.request(method, path, { body, token });
    expect({ path, status: res.status, body: res.status === 201 ? 'created' : res.body }).toEqual({ path, status: 201, body: 'created' });
    last = Math.max(last, res.body.position ?? 0);
    return res.body;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are asserted field by field
  const read = async (path: string): Promise<any> => {
    const res = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${last}`);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return res.body;
  };
  type StreamEvent = { type: string; data: Record<string, unknown>; position: number };
  const streamEvents = async (complaintId: string): Promise<StreamEvent[]> => {
    const res = await t.request('GET', `/streams/complaint-${complaintId}/events`, { token: TOKENS.auditor });
    expect(res.status).toBe(200);
    return res.body.events as StreamEvent[];
  };
  const escalatedEvents = async (complaintId: string): Promise<StreamEvent[]> =>
    (await streamEvents(complaintId)).filter((e) => e.type === 'ComplaintEscalated');
  const breachEvents = async (complaintId: string): Promise<StreamEvent[]> =>
    (await streamEvents(complaintId)).filter((e) => e.type === 'SlaBreached');
  /** The SLA watcher's pass once the board shows everything appended so far (its input is the board). */
  const watch = async (): Promise<void> => {
    last = Math.max(last, (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition as number);
    await read('/complaints?limit=1');
    await t.projector!.slaWatcher.checkOnce();
    last = Math.max(last, (await t.request('GET', '/health/ready', { token: null })).body.eventStore.headPosition as number);
  };
  /** The value of this process's escalation counter for a step of P2 (0 when the series is absent). */
  const escalationsCounted = async (step: string): Promise<number> => {
    const text = String((await t.request('GET', '/metrics', { token: null })).body);
    const line = text.split('\n').find((l) => l.startsWith(`crm_sla_escalations_recorded_total{step="${step}",priority="P2"} `));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const boardIds = async (query: string): Promise<string[]> =>
    ((await read(`/complaints?${query}&limit=500`)).items as Array<{ complaintId: string }>).map((c) => c.complaintId);

  let customerId = '';
  let beforePut = '';
  let escalating = '';
  let waiting = '';
  const fileP2 = async (id: string): Promise<string> =>
    (await send('POST', '/complaints', { id, customerId, channel: 'email', category: 'delivery', priority: 'P2', description: 'parcel lost' })).id;

  beforeAll(async () => {
    t = await startTestApp({ now: new Date(at('08:00')) });
    customerId = (await send('POST', '/customers', { name: 'Esko Escalation', email: 'esko-7c41@example.com', kind: 'customer', ownerId: 'agent-ana' })).id;
    // Filed under the configured policy, which names no steps.
    beforePut = await fileP2('esc-before-put-7c41');
    setClock('08:30');
    await send('PUT', '/sla/policies', policy, TOKENS.admin);
    setClock('09:00');
    escalating = await fileP2('esc-running-7c41');
    waiting = await fileP2('esc-waiting-7c41');
    // Responded: the first-response clocks stop, so the only breach is the resolution one at the 100 % step.
    setClock('09:10');
    for (const id of [beforePut, escalating, waiting]) await send('POST', `/complaints/${id}/respond`, { message: 'looking into it' });
    // A wait recomputes the deadlines of the earlier complaint: still under its own version, still without steps.
    setClock('09:20');
    await send('POST', `/complaints/${beforePut}/await-customer`, { reason: 'asked for the order number' });
    setClock('09:30');
    await send('POST', `/complaints/${beforePut}/resume`, { reason: 'customer answered' });
    setClock('10:00');
    await send('POST', `/complaints/${waiting}/await-customer`, { reason: 'asked for the tracking number' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('files under the published steps: the complaint shows the 75 % time as its next escalation', async () => {
    const filed = (await streamEvents(escalating)).find((e) => e.type === 'ComplaintFiled');
    expect(filed?.data).toMatchObject({
      sla: { policyVersion: POLICY_VERSION, resolutionDueAt: at('09:00', TUE) },
      escalations: [
        { step: WARN, kind: 'resolution', atPercent: 75, notify: 'supervisor', dueAt: at('03:00', TUE) },
        { step: BREACH, kind: 'resolution', atPercent: 100, notify: 'owner', dueAt: at('09:00', TUE) },
      ],
    });
    expect(await read(`/complaints/${escalating}`)).toMatchObject({ escalated: false, escalations: [], nextEscalationAt: at('03:00', TUE) });
    // The earlier complaint keeps the configured version, without steps.
    expect(await read(`/complaints/${beforePut}`)).toMatchObject({ slaPolicyVersion: 'sla-2026-01', escalated: false, nextEscalationAt: null });
    // While it waits with its clocks stopped, nothing is due.
    expect(await read(`/complaints/${waiting}`)).toMatchObject({ paused: true, clocksStopped: true, nextEscalationAt: null });
  });

  it('records the 75 % step once at its time, on the board, the complaint and /metrics; again and after a restart: nothing more', async () => {
    setClock('02:59', TUE);
    await watch();
    expect(await escalatedEvents(escalating)).toEqual([]);

    setClock('03:00', TUE);
    await watch();
    const warned = await escalatedEvents(escalating);
    expect(warned.map((e) => e.data)).toEqual([{
      complaintId: escalating, customerId, step: WARN, kind: 'resolution', atPercent: 75, notify: 'supervisor',
      dueAt: at('03:00', TUE), escalatedAt: at('03:00', TUE), ownerId: 'agent-ana', priority: 'P2',
    }]);
    expect(await boardIds('escalated=true')).toEqual([escalating]);
    expect(await boardIds('escalated=false')).toEqual(expect.arrayContaining([beforePut, waiting]));
    expect(await boardIds('escalated=false')).not.toContain(escalating);
    const onBoard = (await read('/complaints?escalated=true')).items[0];
    expect(onBoard).toMatchObject({ complaintId: escalating, escalated: true, escalations: [{ step: WARN, notify: 'supervisor' }] });
    expect(await read(`/complaints/${escalating}`)).toMatchObject({
      escalated: true,
      escalations: [{ step: WARN, kind: 'resolution', atPercent: 75, notify: 'supervisor', dueAt: at('03:00', TUE), escalatedAt: at('03:00', TUE), priority: 'P2' }],
      nextEscalationAt: at('09:00', TUE),
    });
    expect(await escalationsCounted(WARN)).toBe(1);
    expect(await escalationsCounted(BREACH)).toBe(0);

    await watch();
    expect((await escalatedEvents(escalating)).map((e) => e.position)).toEqual(warned.map((e) => e.position));
    await t.restart();
    await watch();
    expect((await escalatedEvents(escalating)).map((e) => e.position)).toEqual(warned.map((e) => e.position));
    // The restarted process appended no escalation of its own.
    expect(await escalationsCounted(WARN)).toBe(0);
    expect(await read(`/complaints/${escalating}`)).toMatchObject({ escalations: [{ step: WARN }], nextEscalationAt: at('09:00', TUE) });
  });

  it('does not escalate a complaint waiting for the customer; after resume its step falls due later by the wait', async () => {
    // Past its 75 % time (Tuesday 03:00) while waiting since Monday 10:00.
    expect(await escalatedEvents(waiting)).toEqual([]);
    setClock('03:30', TUE);
    await watch();
    expect(await escalatedEvents(waiting)).toEqual([]);
    // Waited 17 h 30 min: the 75 % step moves from Tuesday 03:00 to 20:30, the 100 % one from 09:00 to Wednesday 02:30.
    await send('POST', `/complaints/${waiting}/resume`, { reason: 'customer sent it' });
    expect(await read(`/complaints/${waiting}`)).toMatchObject({
      paused: false, pausedMinutes: 1050, escalated: false, nextEscalationAt: at('20:30', TUE), resolutionDueAt: at('02:30', '2026-11-25'),
    });
    await watch();
    expect(await escalatedEvents(waiting)).toEqual([]);
  });

  it('records the 100 % step and the breach once each at the target, also after another pass and a restart', async () => {
    setClock('08:59', TUE);
    await watch();
    expect((await escalatedEvents(escalating)).map((e) => e.data['step'])).toEqual([WARN]);
    expect(await breachEvents(escalating)).toEqual([]);

    setClock('09:00', TUE);
    await watch();
    const escalated = await escalatedEvents(escalating);
    expect(escalated.map((e) => e.data)).toEqual([
      expect.objectContaining({ step: WARN }),
      expect.objectContaining({ step: BREACH, atPercent: 100, notify: 'owner', dueAt: at('09:00', TUE), escalatedAt: at('09:00', TUE), priority: 'P2' }),
    ]);
    const breaches = await breachEvents(escalating);
    expect(breaches.map((e) => e.data)).toEqual([expect.objectContaining({ kind: 'resolution', dueAt: at('09:00', TUE), breachedAt: at('09:00', TUE) })]);
    expect(await escalationsCounted(BREACH)).toBe(1);
    expect(await read(`/complaints/${escalating}`)).toMatchObject({
      escalated: true, breached: true, escalations: [{ step: WARN }, { step: BREACH, notify: 'owner' }], nextEscalationAt: null,
    });

    const positions = [...escalated, ...breaches].map((e) => e.position);
    const again = async (): Promise<number[]> =>
      [...(await escalatedEvents(escalating)), ...(await breachEvents(escalating))].map((e) => e.position);
    await watch();
    expect(await again()).toEqual(positions);
    await t.restart();
    await watch();
    expect(await again()).toEqual(positions);
    expect(await escalationsCounted(BREACH)).toBe(0);
  });

  it('escalates the resumed complaint at its moved time, once', async () => {
    setClock('20:29', TUE);
    await watch();
    expect(await escalatedEvents(waiting)).toEqual([]);
    setClock('20:30', TUE);
    await watch();
    await watch();
    expect((await escalatedEvents(waiting)).map((e) => e.data)).toEqual([
      expect.objectContaining({ step: WARN, dueAt: at('20:30', TUE), escalatedAt: at('20:30', TUE), notify: 'supervisor' }),
    ]);
    expect(await escalationsCounted(WARN)).toBe(1);
    expect(await read(`/complaints/${waiting}`)).toMatchObject({ escalated: true, nextEscalationAt: at('02:30', '2026-11-25') });
  });

  it('never escalates a complaint filed before the steps were published, though the watcher breached it', async () => {
    // Filed Monday 08:00 under the configured P2 (1440 minutes), waited 10 minutes: its resolution breach fell due Tuesday 08:10.
    expect((await breachEvents(beforePut)).map((e) => e.data)).toEqual([expect.objectContaining({ kind: 'resolution', dueAt: at('08:10', TUE) })]);
    const resumed = (await streamEvents(beforePut)).find((e) => e.type === 'ComplaintResumed');
    expect(resumed?.data).toMatchObject({ sla: { policyVersion: 'sla-2026-01' }, escalations: [] });
    expect(await escalatedEvents(beforePut)).toEqual([]);
    expect(await read(`/complaints/${beforePut}`)).toMatchObject({ escalated: false, escalations: [], nextEscalationAt: null, breached: true });
    expect(await boardIds('escalated=true')).not.toContain(beforePut);
  });
});
