import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  ALL_PROJECTIONS, checkpointName, type Projection, type ProjectionControl, READ_MODEL_STORE, type ReadModelStore, ServingRegistry,
} from '@crm/read-models';
import { ApiProblem, problems } from '../http/problem';
import { APP_CONFIG, type AppConfig } from '@crm/runtime';

export const PROJECTION_RUNNER = Symbol('ProjectionRunner');

const POLL_MS = 10;

/**
 * Read-your-writes: a query may name the log position it must see (`?minPosition=` or `X-Min-Position`). The gate
 * waits, bounded, until the read model's checkpoint has reached it; else 503 with Retry-After. In the embedded
 * process it waits on the runner; with a separate projector it polls the checkpoint in the read-model store.
 */
@Injectable()
export class ReadModelGate {
  private readonly registry: ServingRegistry;

  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(PROJECTION_RUNNER) private readonly runner?: ProjectionControl,
  ) {
    this.registry = runner?.registry ?? new ServingRegistry(store, ALL_PROJECTIONS);
  }

  async position(projection: Projection): Promise<number> {
    const local = this.runner?.checkpointOf(projection.name);
    if (local !== undefined) return local;
    await this.registry.refreshIfStale();
    const serving = this.registry.servingOf(projection);
    return (await this.store.getCheckpoint(checkpointName(projection, serving.generation, serving.version)))?.position ?? 0;
  }

  /** Resolves with the position the read model reflects, at least `minPosition`. */
  async atLeast(projection: Projection, minPosition: number | undefined): Promise<number> {
    const current = await this.position(projection);
    if (minPosition === undefined || current >= minPosition) return current;
    const timeout = this.config.readWaitMs;
    if (this.runner?.checkpointOf(projection.name) !== undefined) {
      if (await this.runner.waitFor(projection.name, minPosition, timeout)) return this.position(projection);
    } else {
      const deadline = Date.now() + timeout;
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const now = await this.position(projection);
        if (now >= minPosition) return now;
      }
    }
    throw new ApiProblem(
      503,
      'read-model-behind',
      'The read model has not caught up yet',
      `${projection.name} has not applied position ${minPosition} within ${timeout} ms`,
      { projection: projection.name, minPosition, position: await this.position(projection) },
      { 'Retry-After': '1' },
    );
  }
}

export function parseMinPosition(query: unknown, header: unknown): number | undefined {
  const raw = query ?? header;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw problems.validation([{ field: 'minPosition', messages: ['minPosition must be a non-negative integer'] }]);
  }
  return n;
}
