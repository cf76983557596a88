import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry tracing, off unless the standard variables ask for it:
 * - `OTEL_TRACES_EXPORTER=otlp` (or just `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): OTLP
 *   over HTTP to a collector; `console`: spans on stdout (to try it out); `none` or unset: off.
 * - `OTEL_SDK_DISABLED=true` turns it off whatever else is set.
 * - The SDK reads the rest itself: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)`,
 *   `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS/TIMEOUT`, `OTEL_BSP_*`.
 *
 * Off, nothing of the SDK is even loaded (the imports are dynamic): the code sees @opentelemetry/api's no-op tracer
 * and no async-hooks context manager runs, so a request pays nothing for tracing it does not use.
 */
export interface TracingHandle {
  /** Exports what is buffered (before a process exits, or a test reads its exporter). */
  flush(): Promise<void>;
  /** Flushes, then unregisters the provider, the context manager and the propagator. */
  shutdown(): Promise<void>;
}

let active: TracingHandle | undefined;

/** Whether this process (or realm: a worker thread has its own) traces: the API installs its HTTP hooks only then. */
export function tracingEnabled(): boolean {
  return active !== undefined;
}

/** Which exporter the environment asks for, or undefined for none (tracing off). */
export function tracesExporterOf(env: NodeJS.ProcessEnv): 'otlp' | 'console' | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const named = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (named.includes('none')) return undefined;
  if (named.length > 0) {
    const unknown = named.filter((n) => n !== 'otlp' && n !== 'console');
    if (unknown.length > 0) throw new Error(`OTEL_TRACES_EXPORTER: ${unknown.join(', ')} not supported (otlp, console or none)`);
    return named.includes('otlp') ? 'otlp' : 'console';
  }
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : undefined;
}

/**
 * Starts the SDK when the environment asks for it (see above), once per process; returns undefined when tracing is
 * off. `exporter` replaces the configured one and exports each span as it ends (tests: InMemorySpanExporter).
 */
export async function startTracing(options: { env?: NodeJS.ProcessEnv; serviceName: string; exporter?: SpanExporter }): Promise<TracingHandle | undefined> {
  if (active) return active;
  const env = options.env ?? process.env;
  const kind = options.exporter ? 'injected' : tracesExporterOf(env);
  if (kind === undefined) return undefined;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (kind === 'otlp' && protocol === 'grpc') {
    throw new Error('OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported: this service exports OTLP over HTTP (a collector listens on 4318)');
  }
  const [{ NodeTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, ConsoleSpanExporter }, resources, api] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'), import('@opentelemetry/resources'), import('@opentelemetry/api'),
  ]);
  let exporter: SpanExporter;
  if (options.exporter) exporter = options.exporter;
  else if (kind === 'otlp') exporter = new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  else exporter = new ConsoleSpanExporter();
  // OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win over the process's own name (crm-api, crm-projector).
  const resource = resources.defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': options.serviceName }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  // The async-hooks context manager and the W3C trace-context + baggage propagators, registered globally.
  provider.register();
  const handle: TracingHandle = {
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      if (active !== handle) return;
      active = undefined;
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
  active = handle;
  return handle;
}

/** The running handle, if any (to flush on close). */
export function activeTracing(): TracingHandle | undefined {
  return active;
}
