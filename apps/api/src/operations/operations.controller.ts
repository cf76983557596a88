import { Controller, Get, Header, HttpCode, Inject, Optional, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiOk, ApiProblems, IDEMPOTENCY_KEY_HEADER } from '../http/openapi/api-decorators';
import { ProjectionsView, RebuildStartedView } from './operations.responses';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import {
  ALL_PROJECTIONS, COMPLAINTS, complaintsProjection, LEASE_STORE, physicalCollection, type Lease, type LeaseStore,
  type ProjectionControl, READ_MODEL_STORE, type ReadModelStore,
} from '@crm/read-models';
import { Public, Roles } from '../auth/principal';
import { CLOCK, type Clock } from '@crm/runtime';
import { Metrics } from '@crm/runtime';
import { ApiProblem, problems } from '../http/problem';
import { PROJECTION_RUNNER, ReadModelGate } from '../read-side/read-model-gate';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';

export interface ProjectionReport {
  name: string;
  version: number;
  checkpoint: number;
  lagEvents: number;
  lagMs: number;
  status: string;
  lastError: unknown;
  eventsApplied: number | null;
  serving: unknown;
  rebuild: unknown;
  /**
   * Projector replicas (MongoDB): the replica holding the projection's lease, and when that lease runs out unless
   * renewed. Null in the embedded mode (one projector, no leases), or when no replica holds it now.
   */
  owner: string | null;
  leaseExpiresAt: string | null;
}

/** An expired lease has no owner: its replica is gone or stalled, and the next replica to look takes it. */
function ownerOf(lease: Lease | undefined, now: number): Pick<ProjectionReport, 'owner' | 'leaseExpiresAt'> {
  if (!lease || lease.expiresAt <= now) return { owner: null, leaseExpiresAt: null };
  return { owner: lease.holder, leaseExpiresAt: new Date(lease.expiresAt).toISOString() };
}

@ApiTags('operations')
@UseGuards(IdempotencyGuard)
@Controller()
export class OperationsController {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly gate: ReadModelGate,
    @Optional() @Inject(PROJECTION_RUNNER) private readonly runner?: ProjectionControl,
    // Leases live beside the read models: any API replica reads them (the embedded SQLite mode has none).
    @Optional() @Inject(LEASE_STORE) private readonly leases?: LeaseStore | null,
  ) {}

  /** Checkpoints from the store (true in both deployments); status from the runner when it runs in this process. */
  async projections(): Promise<ProjectionReport[]> {
    const head = await this.events.headPosition();
    const local = new Map(((await this.runner?.status()) ?? []).map((s) => [s.name, s]));
    const now = this.clock.now().getTime();
    const leases = new Map<string, Lease>((await this.leases?.list())?.map((l) => [l.name, l]));
    return Promise.all(
      ALL_PROJECTIONS.map(async (p) => {
        const status = local.get(p.name);
        const checkpoint = status?.checkpoint ?? (await this.gate.position(p));
        const [next] = checkpoint < head ? await this.events.readAll({ fromPosition: checkpoint, maxCount: 1 }) : [];
        return {
          name: p.name,
          version: p.version,
          checkpoint,
          // Positions of the embedded store are contiguous; EventStoreDB's are byte offsets (a distance, not a count).
          lagEvents: Math.max(0, head - checkpoint),
          lagMs: next ? Math.max(0, now - Date.parse(next.recordedAt)) : 0,
          status: status?.status ?? (checkpoint >= head ? 'live' : 'catching-up (separate projector)'),
          lastError: status?.lastError ?? null,
          eventsApplied: status?.eventsApplied ?? null,
          serving: status?.serving ?? null,
          rebuild: status?.rebuild ?? null,
          // Leases run on the replicas' wall clocks (not the business clock a test may inject).
          ...ownerOf(leases.get(p.name), Date.now()),
        };
      }),
    );
  }

  @Get('projections')
  @Roles('admin', 'agent', 'analyst', 'auditor')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Every projection: version, checkpoint, lag in events and ms, status, last error' })
  @ApiOk(ProjectionsView) @ApiProblems('store-unavailable')
  async list(): Promise<ProjectionsView> {
    return { headPosition: await this.events.headPosition(), projections: await this.projections() };
  }

  @Post('projections/:name/rebuild')
  @HttpCode(202)
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Blue/green rebuild: build generation N+1 beside N (which keeps serving), switch when caught up' })
  @ApiResponse({ status: 202, type: RebuildStartedView, description: 'Rebuild started (or already running); watch GET /projections' })
  @IDEMPOTENCY_KEY_HEADER @ApiProblems('projection-not-found', 'projector-not-embedded', 'idempotency-key-reused', 'idempotency-key-in-progress', 'store-unavailable')
  async rebuild(@Param('name') name: string): Promise<RebuildStartedView> {
    if (!ALL_PROJECTIONS.some((p) => p.name === name)) throw problems.notFound('projection-not-found', `No projection named ${name}`);
    if (!this.runner) {
      throw new ApiProblem(409, 'projector-not-embedded', 'The projections run in another process',
        'This API runs with PROJECTOR=off; restart the projector with the new build or run the rebuild where the projector runs');
    }
    if (!(await this.runner.status()).some((s) => s.name === name)) {
      // Projector replicas: this process's projector does not hold the projection's lease now.
      throw new ApiProblem(409, 'projector-not-embedded', 'The projection runs in another process',
        `${name} runs on another projector replica now (see owner in GET /projections); run the rebuild where it runs`);
    }
    const { generation, alreadyRunning } = await this.runner.rebuild(name);
    return { projection: name, generation, alreadyRunning, status: `/projections` };
  }

  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics: command latency, appends, projection lag, SLA breaches, and the process and runtime metrics (CPU, memory, heap, GC, event-loop lag)' })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string', example: 'crm_projection_lag_events{projection="customer_profiles"} 0' } })
  @ApiProblems('store-unavailable')
  async metricsText(): Promise<string> {
    const reports = await this.projections();
    const openBreaches = await this.readModels.count(physicalCollection(complaintsProjection, COMPLAINTS), { breached: true, open: true });
    return this.metrics.render([
      { name: 'crm_projection_lag_events', help: 'Log positions between the head and the projection checkpoint', values: reports.map((r) => ({ labels: { projection: r.name }, value: r.lagEvents })) },
      { name: 'crm_projection_lag_seconds', help: 'Age of the oldest event a projection has not applied', values: reports.map((r) => ({ labels: { projection: r.name }, value: r.lagMs / 1000 })) },
      { name: 'crm_projection_failed', help: '1 when a projection stopped on a failing event', values: reports.map((r) => ({ labels: { projection: r.name }, value: r.status === 'failed' ? 1 : 0 })) },
      { name: 'crm_open_breached_complaints', help: 'Open complaints with at least one missed SLA deadline', values: [{ labels: {}, value: openBreaches }] },
    ]);
  }
}
