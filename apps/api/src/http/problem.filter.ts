import { ArgumentsHost, Catch, ExceptionFilter, Inject, Logger, Optional } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WRITE_HEALTH, type WriteHealth } from '../health/write-health';
import { IdempotentReplay } from '../idempotency/idempotency.guard';
import { toProblem } from './to-problem';

/**
 * The single place where failures become `application/problem+json`. Never a stack trace in a response. Also sends
 * the remembered response of a repeated `Idempotency-Key` (the guard stops the request with `IdempotentReplay`).
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(@Optional() @Inject(WRITE_HEALTH) private readonly writes?: WriteHealth) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    if (exception instanceof IdempotentReplay) {
      const { status, headers, body } = exception.response;
      void reply.status(status).headers({ ...headers, 'idempotent-replayed': 'true' }).send(body);
      return;
    }
    const problem = toProblem(exception);
    // Readiness reports a full disk from the first request that met it.
    if (problem.status === 503) this.writes?.failed(exception);
    if (problem.status >= 500) {
      this.logger.error(
        { msg: 'request failed', reqId: request.id, method: request.method, path: request.url.split('?', 1)[0], status: problem.status },
        exception instanceof Error ? exception.stack : String(exception),
      );
    }
    void reply
      .status(problem.status)
      .headers(problem.headers)
      .type('application/problem+json')
      .send(problem.toBody(instanceOf(request.url, problem.type)));
  }
}

const MAX_INSTANCE_LENGTH = 256;

/**
 * The problem's `instance`: the path the problem is about, without the query (which may carry anything a client
 * sent), and none for an unknown route or an overlong path, whose path is only an echo of the input.
 */
function instanceOf(url: string, type: string): string | undefined {
  const path = url.split('?', 1)[0] ?? '';
  return type === 'route-not-found' || path.length > MAX_INSTANCE_LENGTH ? undefined : path;
}
