import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { activeTraceparent, tracer } from '@crm/event-store';

/**
 * Probes and scrapes: every balancer and Prometheus calls them every few seconds on every replica, and their traces
 * would bury the ones of real requests (their latency is in /metrics and their failures in the logs).
 */
const UNTRACED_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

interface Traced {
  readonly span: Span;
  readonly context: Context;
}

/**
 * The server span of each request, installed only when tracing is on (no hook, no cost otherwise). Its parent is the
 * caller's `traceparent` (W3C trace context), so the API's spans join the trace of whoever called it; the response
 * carries the server span's own `traceparent`, so a client or a balancer log can find the trace of any answer.
 *
 * The span is made active for the handler in `preHandler`: the request body has been read by then, in callbacks of
 * the socket that an async context set in `onRequest` would not reach.
 */
export function installHttpTracing(fastify: FastifyInstance): void {
  const traced = new WeakMap<FastifyRequest, Traced>();
  fastify.addHook('onRequest', (request, reply, done) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (UNTRACED_PATHS.has(path)) {
      done();
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(request.method, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'url.path': path, 'crm.request_id': request.id },
    }, parent);
    const active = trace.setSpan(parent, span);
    traced.set(request, { span, context: active });
    const traceparent = context.with(active, activeTraceparent);
    if (traceparent) void reply.header('traceparent', traceparent);
    context.with(active, done);
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const entry = traced.get(request);
    if (entry) context.with(entry.context, done);
    else done();
  });
  const end = (request: FastifyRequest, status: number | undefined): void => {
    const entry = traced.get(request);
    if (!entry) return;
    traced.delete(request);
    const route = request.routeOptions.url;
    if (route) {
      entry.span.updateName(`${request.method} ${route}`);
      entry.span.setAttribute('http.route', route);
    }
    if (status === undefined) {
      entry.span.setStatus({ code: SpanStatusCode.ERROR, message: 'aborted by the client' });
    } else {
      entry.span.setAttribute('http.response.status_code', status);
      // OTel HTTP semantic conventions: a server span fails on 5xx only; a 4xx is the client's.
      if (status >= 500) entry.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    entry.span.end();
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
}
