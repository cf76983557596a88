import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { startTracing, tracingEnabled, type TracingHandle } from '@crm/runtime';
import { startTestApp, type TestApp } from '../support/test-app';

/** Tracing on, as OTEL_* would turn it on, with the spans kept in memory instead of sent to a collector. */
describe('OpenTelemetry traces', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle | undefined;
  let t: TestApp;
  beforeAll(async () => {
    tracing = await startTracing({ serviceName: 'crm-api-test', exporter });
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
    await tracing?.shutdown();
  });

  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const waitForSpan = async (what: string, match: (s: ReadableSpan) => boolean): Promise<ReadableSpan> => {
    // The server span ends once the response is sent: maybe just after the client has read it.
    for (let deadline = Date.now() + 5000; ; ) {
      const found = spans().find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no span ${what}; have ${spans().map((s) => s.name).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

  it('continues the caller\'s trace: server span, then decide and append as its children, with stream, count and position', async () => {
    expect(tracingEnabled()).toBe(true);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const res = await t.request('POST', '/customers', {
      body: { name: 'Traced', kind: 'customer' },
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01`, 'x-correlation-id': 'corr-tr4ce-91', 'x-request-id': 'req-tr4ce-91' },
    });
    expect(res.status).toBe(201);
    const server = await waitForSpan('POST /customers', (s) => s.kind === SpanKind.SERVER && s.attributes['crm.request_id'] === 'req-tr4ce-91');
    expect(server.name).toBe('POST /customers');
    expect(server.spanContext().traceId).toBe(traceId);
    expect(parentOf(server)).toBe(callerSpanId);
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/customers', 'http.response.status_code': 201 });
    // The answer names the server span, so a client can find this trace.
    expect(res.headers.get('traceparent')).toBe(`00-${traceId}-${server.spanContext().spanId}-01`);

    const streamId = `customer-${res.body.id}`;
    const decide = spans().find((s) => s.name === 'decide' && s.attributes['crm.stream.id'] === streamId);
    const append = spans().find((s) => s.name === 'append' && s.attributes['crm.stream.id'] === streamId);
    for (const child of [decide, append]) {
      expect(child?.spanContext().traceId).toBe(traceId);
      expect(child && parentOf(child)).toBe(server.spanContext().spanId);
    }
    expect(decide?.attributes).toMatchObject({ 'crm.event.count': 1 });
    expect(append?.attributes).toMatchObject({ 'crm.event.count': 1, 'crm.log.position': res.body.position, 'crm.stream.revision': 0 });

    // The event carries the append's trace context beside its correlation id...
    const [event] = await t.app.get<EventStore>(EVENT_STORE).readStream(streamId);
    expect(event?.metadata).toMatchObject({ correlationId: 'corr-tr4ce-91', traceparent: `00-${traceId}-${append?.spanContext().spanId}-01` });

    // ...and the projector's span of the batch that applied it links to that append and names the correlation id.
    await t.request('GET', `/customers/${res.body.id}?minPosition=${res.body.position}`);
    const projected = await waitForSpan('project customer_profiles', (s) =>
      s.name === 'project customer_profiles' && s.links.some((l) => l.context.spanId === append?.spanContext().spanId));
    expect(projected.kind).toBe(SpanKind.CONSUMER);
    expect(projected.links.find((l) => l.context.spanId === append?.spanContext().spanId)?.context.traceId).toBe(traceId);
    expect(projected.attributes['crm.correlation_ids']).toContain('corr-tr4ce-91');
    expect(projected.attributes).toMatchObject({ 'crm.projection.name': 'customer_profiles' });
    expect(Number(projected.attributes['crm.log.position.to'])).toBeGreaterThanOrEqual(res.body.position);
  });

  it('starts a new trace when the caller sent none, and marks a 5xx answer failed but not a 4xx', async () => {
    const fresh = await t.request('GET', '/complaints', { headers: { 'x-request-id': 'req-fresh-trace-7' } });
    const server = await waitForSpan('GET /complaints', (s) => s.attributes['crm.request_id'] === 'req-fresh-trace-7');
    expect(parentOf(server)).toBeUndefined();
    expect(fresh.headers.get('traceparent')).toBe(`00-${server.spanContext().traceId}-${server.spanContext().spanId}-01`);

    await t.request('POST', '/customers', { body: { kind: 'nobody' }, headers: { 'x-request-id': 'req-bad-body-7' } });
    const refused = await waitForSpan('400', (s) => s.attributes['crm.request_id'] === 'req-bad-body-7');
    expect(refused.attributes['http.response.status_code']).toBe(400);
    expect(refused.status.code).toBe(0);

    await t.request('GET', '/complaints?minPosition=987654321', { headers: { 'x-request-id': 'req-behind-7' } });
    const behind = await waitForSpan('503', (s) => s.attributes['crm.request_id'] === 'req-behind-7');
    expect(behind.attributes['http.response.status_code']).toBe(503);
    expect(behind.status.code).toBe(2);
  });

  it('does not trace health probes and metric scrapes, which would bury the traces of real requests', async () => {
    const probes = await Promise.all(['/health/live', '/health/ready', '/metrics'].map((path) =>
      t.request('GET', path, { token: null, headers: { 'x-request-id': `probe-${path.length}-q8` } })));
    for (const probe of probes) {
      expect(probe.status).toBe(200);
      expect(probe.headers.get('traceparent')).toBeNull();
    }
    // A later request's span is exported: had the probes been traced, theirs would be there before it.
    await t.request('GET', '/complaints', { headers: { 'x-request-id': 'after-probes-q8' } });
    await waitForSpan('GET /complaints', (s) => s.attributes['crm.request_id'] === 'after-probes-q8');
    expect(spans().filter((s) => String(s.attributes['crm.request_id']).startsWith('probe-'))).toEqual([]);
  });

  it('ignores a malformed traceparent and starts a trace of its own', async () => {
    await t.request('GET', '/complaints', { headers: { traceparent: '00-zzzz-not-a-trace-01', 'x-request-id': 'req-bad-tp-7' } });
    const server = await waitForSpan('GET /complaints', (s) => s.attributes['crm.request_id'] === 'req-bad-tp-7');
    expect(parentOf(server)).toBeUndefined();
    expect(server.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
