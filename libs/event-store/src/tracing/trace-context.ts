import {
  context, isSpanContextValid, ProxyTracerProvider, SpanStatusCode, trace, type Attributes, type Span, type Tracer,
} from '@opentelemetry/api';

/**
 * Tracing through @opentelemetry/api only: with no SDK registered (the default: no OTEL_* variables) the API's
 * no-op tracer answers, which allocates a non-recording span and nothing else, and no async context is tracked.
 */
export const tracer: Tracer = trace.getTracer('crm');

/**
 * Whether an SDK is registered (spans record): the per-command spans are only built then. The no-op tracer's spans
 * still cost each command an options and an attributes object, a span, a copied context (a Map) and two promises
 * (`inSpan`): ~1 KB of garbage per command for nothing when tracing is off, the default.
 */
export function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('crm') !== undefined;
}

/**
 * The W3C `traceparent` of the span active now, or undefined when nothing is traced. Written into event metadata so
 * that the projector, reading the log later and maybe elsewhere, can link its work to the request that appended.
 */
export function activeTraceparent(): string | undefined {
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Parses a W3C `traceparent` (version 00) into a span context for a link; undefined when it is not one. */
export function spanContextOf(traceparent: unknown): { traceId: string; spanId: string; traceFlags: number; isRemote: true } | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  const sc = { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), isRemote: true as const };
  return isSpanContextValid(sc) ? sc : undefined;
}

/** Runs `work` in an active span named `name`, ending it (with the error recorded) whichever way `work` ends. */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks a span failed with the error's name only: messages may quote personal data, and spans leave the process. */
export function failed(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const name = error instanceof Error ? error.name : typeof error;
  span.setStatus({ code: SpanStatusCode.ERROR, message: name });
  span.setAttribute('error.type', name);
}
