import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CommandOutcome } from '../commands/command-executor';

/** What a command route answers: status, headers and body, written to the reply by `writeCommandResponse`. */
export class CommandResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: unknown,
  ) {}
}

/** 201 `{ id, streamRevision, position }` with the stream revision as ETag (DESIGN §5). */
export function commandCreated(outcome: CommandOutcome, id: string, location: string): CommandResponse {
  return new CommandResponse(
    201,
    { etag: `"${outcome.streamRevision}"`, location },
    { id, streamRevision: outcome.streamRevision, position: outcome.position },
  );
}

/** Fastify `preSerialization` hook: a `CommandResponse` returned by a route becomes its status, headers and body. */
export function writeCommandResponse(_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void {
  if (!(payload instanceof CommandResponse)) {
    done(null, payload);
    return;
  }
  void reply.status(payload.status).headers(payload.headers);
  done(null, payload.body);
}
