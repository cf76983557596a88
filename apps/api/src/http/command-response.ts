import type { CommandOutcome } from '../commands/command-executor';

/** What a command route answers: written to the reply by the idempotency interceptor, and replayed from it. */
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
