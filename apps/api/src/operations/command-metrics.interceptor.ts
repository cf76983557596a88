import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { finalize, type Observable } from 'rxjs';
import { Metrics } from '@crm/runtime';

/** Times every command (POST/PUT/PATCH) by route pattern and final status. */
@Injectable()
export class CommandMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    if (request.method === 'GET') return next.handle();
    const started = process.hrtime.bigint();
    return next.handle().pipe(
      finalize(() => {
        const reply = http.getResponse<FastifyReply>();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const route = request.routeOptions.url ?? 'unknown';
        this.metrics.commandDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
      }),
    );
  }
}
