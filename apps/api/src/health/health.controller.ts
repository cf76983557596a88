import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { type ProjectionControl, READ_MODEL_STORE, type ReadModelStore } from '@crm/read-models';
import { Public } from '../auth/principal';
import { ApiProblem } from '../http/problem';
import { PROJECTION_RUNNER } from '../read-side/read-model-gate';

@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Optional() @Inject(PROJECTION_RUNNER) private readonly runner?: ProjectionControl,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready when both stores answer and no projection of this process has stopped on a failing event. */
  @Get('ready')
  async ready(): Promise<unknown> {
    const checks: Record<string, unknown> = {};
    let ok = true;
    try {
      checks['eventStore'] = { headPosition: await this.store.headPosition() };
    } catch (error) {
      ok = false;
      checks['eventStore'] = { error: error instanceof Error ? error.message : String(error) };
    }
    try {
      await this.readModels.getCheckpoint('health-probe');
      checks['readModelStore'] = { ok: true };
    } catch (error) {
      ok = false;
      checks['readModelStore'] = { error: error instanceof Error ? error.message : String(error) };
    }
    const failed = ((await this.runner?.status()) ?? []).filter((s) => s.status === 'failed').map((s) => s.name);
    checks['projections'] = { failed };
    if (failed.length) ok = false;
    if (!ok) {
      const eventStoreDown = typeof checks['eventStore'] === 'object' && checks['eventStore'] !== null && 'error' in checks['eventStore'];
      throw new ApiProblem(503, eventStoreDown ? 'store-unavailable' : 'not-ready', 'Not ready', 'A store is unreachable or a projection has stopped', checks, { 'Retry-After': '5' });
    }
    return { status: 'ok', ...checks };
  }
}
