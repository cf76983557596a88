import { describe, expect, it } from '@jest/globals';
import { RequestMethod, type Type } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { AppModule, type AppModuleOptions } from '../app.module';
import { IdempotencyGuard } from './idempotency.guard';

const READ_ONLY = new Set([RequestMethod.GET, RequestMethod.HEAD, RequestMethod.OPTIONS]);

/** Route handlers of a controller with the HTTP method they answer. */
function routes(controller: Type): Array<{ name: string; method: RequestMethod; handler: object }> {
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype)
    .map((name) => ({ name, handler: prototype[name] }))
    .filter((r): r is { name: string; handler: object } => typeof r.handler === 'function' && Reflect.hasMetadata(METHOD_METADATA, r.handler))
    .map((r) => ({ ...r, method: Reflect.getMetadata(METHOD_METADATA, r.handler) as RequestMethod }));
}

const guardsOf = (target: object): unknown[] => (Reflect.getMetadata(GUARDS_METADATA, target) as unknown[] | undefined) ?? [];

describe('Idempotency-Key coverage', () => {
  // The guard is bound per command controller (it must run after authentication, which is global). This keeps a new
  // command controller from silently losing Idempotency-Key.
  it('is bound to every route that changes something', () => {
    const controllers = (AppModule.forRoot({ config: {}, deciders: {} } as unknown as AppModuleOptions).controllers ?? []) as Type[];
    const mutating = controllers.flatMap((c) => routes(c).filter((r) => !READ_ONLY.has(r.method)).map((r) => ({ controller: c, ...r })));

    expect(mutating.length).toBeGreaterThan(10);
    const uncovered = mutating
      .filter((r) => !guardsOf(r.controller).includes(IdempotencyGuard) && !guardsOf(r.handler).includes(IdempotencyGuard))
      .map((r) => `${r.controller.name}.${r.name}`);
    expect(uncovered).toEqual([]);
  });
});
