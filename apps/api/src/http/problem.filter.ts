import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './to-problem';

/** The single place where failures become `application/problem+json`. Never a stack trace in a response. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const problem = toProblem(exception);
    if (problem.status >= 500) {
      this.logger.error(
        { msg: 'request failed', method: request.method, url: request.url, status: problem.status },
        exception instanceof Error ? exception.stack : String(exception),
      );
    }
    void reply
      .status(problem.status)
      .headers(problem.headers)
      .type('application/problem+json')
      .send(problem.toBody(request.url));
  }
}
