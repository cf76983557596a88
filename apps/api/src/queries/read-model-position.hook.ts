import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Every read-model answer says which log position it reflects, in the body (`asOfPosition`) and in the
 * `X-Read-Model-Position` header. A Fastify `preSerialization` hook rather than a Nest interceptor: an interceptor
 * costs every query an rxjs pipeline and two `AsyncResource.bind`s.
 */
export function readModelPositionHeader(_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void {
  const position = (payload as { asOfPosition?: unknown } | null)?.asOfPosition;
  if (typeof position === 'number') void reply.header('x-read-model-position', String(position));
  done(null, payload);
}
