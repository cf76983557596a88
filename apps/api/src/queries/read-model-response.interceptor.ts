import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, type Observable } from 'rxjs';

/** Every read-model answer says which log position it reflects, in the body (`asOfPosition`) and a header. */
@Injectable()
export class ReadModelPositionInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      map((body: unknown) => {
        const position = (body as { asOfPosition?: unknown } | null)?.asOfPosition;
        if (typeof position === 'number') void reply.header('x-read-model-position', String(position));
        return body;
      }),
    );
  }
}
