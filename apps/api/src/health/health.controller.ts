import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiOk, ApiProblems } from '../http/openapi/api-decorators';
import { LiveView, ReadyView } from './health.responses';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { type ProjectionControl, READ_MODEL_STORE, type ReadModelStore } from '@crm/read-models';
import { Public } from '../auth/principal';
import { ApiProblem } from '../http/problem';
import { PROJECTION_RUNNER } from '../read-side/read-model-gate';
import { WRITE_HEALTH, type WriteHealth } from './write-health';

@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Optional() @Inject(PROJECTION_RUNNER) private readonly runner?: ProjectionControl,
    @Optional() @Inject(WRITE_HEALTH) private readonly writes?: WriteHealth,
  ) {}

  @Get('live')
  @ApiOk(LiveView, 'The process answers')
  live(): LiveView {
    return { status: 'ok' };
  }

  /**
   * Ready when both stores answer, writes do not fail (a full disk: every command would fail while reads still
   * answer) and no projection of this process has stopped on a failing event.
   */
  @Get('ready')
  @ApiOk(ReadyView, 'Both stores answer, writes succeed, no projection has stopped') @ApiProblems('not-ready', 'store-unavailable')
  async ready(): Promise<ReadyView> {
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
    const disk = this.writes ? await this.writes.check() : undefined;
    if (disk) checks['disk'] = disk;
    const writesFailing = disk !== undefined && disk.status !== 'ok';
    if (writesFailing) ok = false;
    const failed = ((await this.runner?.status()) ?? []).filter((s) => s.status === 'failed').map((s) => s.name);
    checks['projections'] = { failed };
    if (failed.length) ok = false;
    if (!ok) {
      const down = (check: unknown): boolean => typeof check === 'object' && check !== null && 'error' in check;
      // Either store unreachable is an outage the balancer should route around (docs/operations.md "Store outages").
      const storeDown = down(checks['eventStore']) || down(checks['readModelStore']);
      const unreachable = [down(checks['eventStore']) ? 'the event store' : '', down(checks['readModelStore']) ? 'the read-model store' : '']
        .filter(Boolean).join(' and ');
      throw new ApiProblem(
        503, storeDown || writesFailing ? 'store-unavailable' : 'not-ready', 'Not ready',
        writesFailing ? 'Writes are failing (the disk is full or failing)'
          : storeDown ? `Unreachable: ${unreachable}` : 'A projection has stopped',
        checks, { 'Retry-After': '5' },
      );
    }
    return { status: 'ok', eventStore: checks['eventStore'], readModelStore: checks['readModelStore'], ...(disk ? { disk } : {}), projections: checks['projections'] };
  }
}
