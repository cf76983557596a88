import type { FastifyError, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AppConfig, HttpServerLimits } from '@crm/runtime';
import { type ApiProblem, problems } from './problem';

/**
 * Nesting depth allowed in a JSON body. Our deepest command (a purchase: body → lines → line) is 3; the limit keeps
 * every recursive walk after parsing (class-transformer, class-validator, the idempotency hash) far from the stack
 * limit, which a 20 KB body nested 10,000 deep reached.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * `onRequest` hook: a parameter given twice (`?q=a&q=b`) arrives as an array, which no query route expects (they
 * would call string methods on it and answer 500). One place refuses it for every route, naming the parameter.
 */
export function refuseRepeatedQueryParameters(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const query = request.query as Record<string, unknown> | undefined;
  const repeated = query ? Object.keys(query).filter((name) => Array.isArray(query[name])) : [];
  if (repeated.length === 0) {
    done();
    return;
  }
  done(problems.validation(repeated.map((field) => ({ field, messages: [`${field} must be given at most once`] }))));
}

/** Whether a parsed JSON value nests deeper than `max` (the top-level object or array is depth 1). Iterative. */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 1 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.node === null || typeof item.node !== 'object') continue;
    if (item.depth > max) return true;
    for (const child of Object.values(item.node)) {
      if (child !== null && typeof child === 'object') stack.push({ node: child, depth: item.depth + 1 });
    }
  }
  return false;
}

/** `preValidation` hook: refuses a body nested deeper than MAX_JSON_DEPTH before anything walks it recursively. */
export function refuseDeepBodies(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (jsonDepthExceeds(request.body, MAX_JSON_DEPTH)) {
    done(problems.validation([{ field: 'body', messages: [`the body must not nest objects and arrays deeper than ${MAX_JSON_DEPTH} levels`] }]));
    return;
  }
  done();
}

/**
 * Fastify's `frameworkErrors`: errors its router raises before any route (and before Nest) sees the request. Its own
 * answers are plain JSON that echo the whole path; these are problems that echo nothing.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const problem = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? problems.uriTooLong()
    : error.code === 'FST_ERR_BAD_URL' ? problems.badUrl()
    : problems.internal();
  // Refused while routing, before the onRequest hook that echoes the request id: echoed here instead.
  void reply.status(problem.status).header('x-request-id', request.id).type('application/problem+json').send(problem.toBody());
}

function rawProblemResponse(problem: ApiProblem): string {
  const body = JSON.stringify(problem.toBody());
  return `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\nContent-Type: application/problem+json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

interface SocketWithResponse {
  /** Node's own link from a socket to the response being written on it (set while a request is in flight). */
  _httpMessage?: { headersSent?: boolean } | null;
}

/**
 * Node's `clientError`: what Node's HTTP parser refuses before Fastify gets a request (431 headers too large, 400 not
 * HTTP, 408 request or headers timeout). Written raw on the socket, as Node itself would, but as a problem.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = error.code === 'HPE_HEADER_OVERFLOW' ? problems.headerFieldsTooLarge()
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? problems.requestTimeout()
    : problems.notHttp();
  // A response already under way owns the socket's byte stream: a second status line would corrupt it.
  const inFlight = (socket as Duplex & SocketWithResponse)._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(rawProblemResponse(problem));
  socket.destroy();
}

/**
 * Reads and discards what is left of a request body, at most `maxBytes`, then calls `then` once. A server that
 * answers 413 and closes while the client is still sending makes the client's TCP stack see a reset, and most
 * clients then report the reset, not the 413 they were sent.
 */
export function drainRequest(raw: IncomingMessage, maxBytes: number, then: () => void): void {
  if (raw.complete || raw.readableEnded || raw.destroyed) {
    then();
    return;
  }
  let seen = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    raw.off('data', onData);
    raw.off('end', finish);
    raw.off('error', finish);
    raw.off('close', finish);
    then();
  };
  const onData = (chunk: Buffer | string): void => {
    seen += chunk.length;
    if (seen > maxBytes) finish();
  };
  raw.on('data', onData);
  raw.once('end', finish);
  raw.once('error', finish);
  raw.once('close', finish);
  raw.resume();
}

/** `onSend` hook: a 413 is sent once the rest of the body has been read (bounded), see `drainRequest`. */
export function drainBeforePayloadTooLarge(maxBytes: number) {
  return (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void => {
    if (reply.statusCode !== 413) {
      done(null, payload);
      return;
    }
    drainRequest(request.raw, maxBytes, () => {
      // Fastify marks every body-parser failure `connection: close`, as the client may still be sending. Once the
      // body has been read there is nothing left to misread, and the connection may serve the next request; past the
      // bound it is still arriving, and the connection ends with this answer.
      if (request.raw.complete) void reply.removeHeader('connection');
      else void reply.header('connection', 'close');
      done(null, payload);
    });
  };
}

/** Timeouts and the connection cap on the HTTP server, as configured (Fastify's defaults leave them off). */
export function applyServerLimits(server: Server, limits: HttpServerLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
}

/**
 * Where and how the API listens: `config.port`/`config.host` unless given (tests and benches take port 0), with the
 * configured listen backlog. Under load the API accepts one connection per event-loop turn; with Node's default
 * backlog of 511 a burst of new connections overflowed the queue at 500 commands/s and the dropped SYNs came back
 * 1–7 s later (bench/README.md, projection-lag, 2026-12-06 evening).
 */
export function listenOptions(config: Pick<AppConfig, 'port' | 'host' | 'http'>, at: { port?: number; host?: string } = {}): { port: number; host: string; backlog: number } {
  return { port: at.port ?? config.port, host: at.host ?? config.host, backlog: config.http.listenBacklog };
}
