import { context, createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { startTracing, tracesExporterOf, tracingEnabled } from '@crm/runtime';
import { startTestApp, type TestApp } from '../support/test-app';

/** The default: no OTEL_* variables, so no SDK, no spans, no async context tracking, nothing in the events. */
describe('tracing off by default', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('starts no SDK without the OTEL_* variables (or with them saying none / disabled)', async () => {
    for (const env of [{}, { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }]) {
      expect(await startTracing({ env, serviceName: 'crm-api' })).toBeUndefined();
    }
    expect(tracingEnabled()).toBe(false);
    expect(tracesExporterOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('otlp');
    expect(tracesExporterOf({ OTEL_TRACES_EXPORTER: 'console' })).toBe('console');
    expect(() => tracesExporterOf({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/zipkin not supported/);
  });

  it('answers without a traceparent, records nothing in the events, and the API\'s tracer is the no-op one', async () => {
    const res = await t.request('POST', '/customers', {
      body: { name: 'Untraced', kind: 'customer' },
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('traceparent')).toBeNull();
    const [event] = await t.app.get<EventStore>(EVENT_STORE).readStream(`customer-${res.body.id}`);
    expect(event?.metadata).not.toHaveProperty('traceparent');

    const span = trace.getTracer('crm').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe('0'.repeat(32));
    // No context manager: a value set around an await is not seen after it (AsyncLocalStorage would carry it).
    const key = createContextKey('probe');
    const seen = await context.with(ROOT_CONTEXT.setValue(key, 'set'), async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return context.active().getValue(key);
    });
    expect(seen).toBeUndefined();
  });
});
