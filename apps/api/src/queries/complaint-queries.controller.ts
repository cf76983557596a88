import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { PRIORITIES, REDACTED, SLA_KINDS } from '@crm/domain';
import {
  COMPLAINTS, complaintsProjection, FOLLOW_UPS, followUpsProjection, physicalCollection, READ_MODEL_STORE, SLA_BREACHES,
  slaBreachesProjection, type Doc, type Query as DocQuery, type ReadModelStore,
} from '@crm/read-models';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { IdParam } from '../http/id-param';
import { problems } from '../http/problem';
import { CLOCK, type Clock } from '@crm/runtime';
import { ReadModelGate } from '../read-side/read-model-gate';
import { boolParam, enumParam, instantParam, intParam, MinPosition } from './query-params';

const COMPLAINT_DOCS = physicalCollection(complaintsProjection, COMPLAINTS);
const BREACH_DOCS = physicalCollection(slaBreachesProjection, SLA_BREACHES);
const FOLLOW_UP_DOCS = physicalCollection(followUpsProjection, FOLLOW_UPS);
const STATUSES = ['open', 'filed', 'responded', 'resolved', 'closed'] as const;

function withoutStoreFields(doc: Doc): Record<string, unknown> {
  const { _id, _position, nextDeadline: _nd, nextDueAt: _nda, ...rest } = doc;
  return { ...rest, lastPosition: _position };
}

/** The free text of a complaint (ComplaintFiled's personal fields), which analysts never see (docs/privacy.md). */
const COMPLAINT_FREE_TEXT = ['category', 'description'] as const;

/**
 * The SLA state of issue 16 with its defaults (a complaint that never waited, changed priority or escalated has no
 * such fields in the read model). `pausedMinutes`: the SLA minutes finished waits took off the clocks, plus the
 * current wait so far (wall-clock minutes until it ends); the watcher's bookkeeping stays out of the response.
 */
function slaStateView(doc: Doc, now: Date): Record<string, unknown> {
  const {
    resumeRequest: _rr, escalatedSteps: _es, escalationSchedule: _sched, nextEscalationDueAt, clocksStopped,
    paused, pausedSince, pausedMinutes, filingPriority, priorityChanges, escalations, escalated, ...rest
  } = doc;
  const waiting = paused === true && typeof pausedSince === 'string';
  const current = waiting && clocksStopped === true ? Math.max(0, Math.floor((now.getTime() - Date.parse(pausedSince)) / 60_000)) : 0;
  return {
    ...rest,
    paused: waiting,
    pausedSince: waiting ? pausedSince : null,
    clocksStopped: waiting && clocksStopped === true,
    pausedMinutes: (typeof pausedMinutes === 'number' ? pausedMinutes : 0) + current,
    filingPriority: filingPriority ?? doc['priority'],
    priorityChanges: priorityChanges ?? 0,
    escalated: escalated === true,
    escalations: escalations ?? [],
    nextEscalationAt: waiting && clocksStopped === true ? null : (nextEscalationDueAt ?? null),
  };
}

function complaintView(doc: Doc, who: Principal, now: Date): Record<string, unknown> {
  const view = withoutStoreFields(slaStateView(doc, now) as Doc);
  if (who.role !== 'analyst') return view;
  for (const field of COMPLAINT_FREE_TEXT) if (view[field] !== undefined && view[field] !== null) view[field] = REDACTED;
  return view;
}

@ApiTags('complaints')
@ApiBearerAuth()
@Controller()
export class ComplaintQueriesController {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    private readonly gate: ReadModelGate,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('complaints')
  @Roles('agent', 'admin', 'analyst', 'auditor', 'customer')
  @ApiOperation({ summary: 'The complaint board. status=open: every complaint not yet resolved or closed' })
  @ApiQuery({ name: 'status', required: false, enum: STATUSES }) @ApiQuery({ name: 'ownerId', required: false })
  @ApiQuery({ name: 'breached', required: false, type: Boolean }) @ApiQuery({ name: 'customerId', required: false })
  @ApiQuery({ name: 'escalated', required: false, type: Boolean, description: 'Complaints with (or without) an escalation recorded' })
  @ApiQuery({ name: 'paused', required: false, type: Boolean, description: 'Complaints waiting (or not) for the customer' })
  @ApiQuery({ name: 'limit', required: false }) @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'minPosition', required: false })
  async list(
    @Query('status') statusParam: string | undefined,
    @Query('ownerId') ownerId: string | undefined,
    @Query('breached') breachedParam: string | undefined,
    @Query('customerId') customerIdParam: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @Query('offset') offsetParam: string | undefined,
    @Query('escalated') escalatedParam: string | undefined,
    @Query('paused') pausedParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() who: Principal,
  ): Promise<unknown> {
    const status = enumParam(statusParam, 'status', STATUSES);
    const breached = boolParam(breachedParam, 'breached');
    const escalated = boolParam(escalatedParam, 'escalated');
    const paused = boolParam(pausedParam, 'paused');
    const limit = intParam(limitParam, 'limit', 50, 1, 500);
    const offset = intParam(offsetParam, 'offset', 0, 0, 1_000_000);
    // Self-service sees its own complaints only, whatever it asks for.
    const customerId = who.role === 'customer' ? who.customerId : customerIdParam;
    const filter: Record<string, DocQuery[string]> = {};
    if (status === 'open') filter['open'] = true;
    else if (status) filter['status'] = status;
    if (ownerId) filter['ownerId'] = ownerId;
    if (breached !== undefined) filter['breached'] = breached;
    // Written only once true (a complaint that never escalated or waited has no such field): `false` is "not true".
    if (escalated !== undefined) filter['escalated'] = escalated ? true : { $ne: true };
    if (paused !== undefined) filter['paused'] = paused ? true : { $ne: true };
    if (customerId) filter['customerId'] = customerId;
    const asOfPosition = await this.gate.atLeast(complaintsProjection, minPosition);
    const [docs, total] = await Promise.all([
      this.store.find(COMPLAINT_DOCS, filter, { sort: [['filedAt', -1]], limit, skip: offset }),
      this.store.count(COMPLAINT_DOCS, filter),
    ]);
    const now = this.clock.now();
    return { items: docs.map((d) => complaintView(d, who, now)), total, limit, offset, asOfPosition };
  }

  @Get('complaints/:id')
  @Roles('agent', 'admin', 'analyst', 'auditor', 'customer')
  @ApiOperation({ summary: 'One complaint with status, owner, SLA deadlines and breaches' })
  @ApiQuery({ name: 'minPosition', required: false })
  async one(@IdParam('id') id: string, @MinPosition() minPosition: number | undefined, @CurrentPrincipal() who: Principal): Promise<unknown> {
    const asOfPosition = await this.gate.atLeast(complaintsProjection, minPosition);
    // A customer's lookup carries its own customer id, so another customer's complaint is not found by the very
    // query that finds no unknown id: no document is read, so the two cannot be told apart (even by timing, which a
    // read-then-compare did give away: loading the other customer's document cost measurably more).
    const doc = who.role === 'customer'
      ? (await this.store.find(COMPLAINT_DOCS, { complaintId: id, customerId: who.customerId ?? '' }, { limit: 1 }))[0]
      : await this.store.get(COMPLAINT_DOCS, id);
    if (!doc) throw problems.notFound('complaint-not-found', `Complaint ${id} not found`);
    return { id, ...complaintView(doc, who, this.clock.now()), asOfPosition };
  }

  @Get('sla/breaches')
  @Roles('agent', 'admin', 'analyst', 'auditor')
  @ApiOperation({ summary: 'Missed SLA deadlines with minutes late (until now while still unmet)' })
  @ApiQuery({ name: 'from', required: false }) @ApiQuery({ name: 'to', required: false })
  @ApiQuery({ name: 'ownerId', required: false }) @ApiQuery({ name: 'priority', required: false, enum: PRIORITIES })
  @ApiQuery({ name: 'kind', required: false, enum: SLA_KINDS }) @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'minPosition', required: false })
  async breaches(
    @Query('from') fromParam: string | undefined,
    @Query('to') toParam: string | undefined,
    @Query('ownerId') ownerId: string | undefined,
    @Query('priority') priorityParam: string | undefined,
    @Query('kind') kindParam: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
  ): Promise<unknown> {
    const from = instantParam(fromParam, 'from');
    const to = instantParam(toParam, 'to');
    const priority = enumParam(priorityParam, 'priority', PRIORITIES);
    const kind = enumParam(kindParam, 'kind', SLA_KINDS);
    const limit = intParam(limitParam, 'limit', 100, 1, 1000);
    const range: { $gte?: string; $lt?: string } = {};
    if (from) range.$gte = from;
    if (to) range.$lt = to;
    const filter: Record<string, DocQuery[string]> = {};
    if (from || to) filter['breachedAt'] = range;
    if (ownerId) filter['ownerId'] = ownerId;
    if (priority) filter['priority'] = priority;
    if (kind) filter['kind'] = kind;
    const asOfPosition = await this.gate.atLeast(slaBreachesProjection, minPosition);
    const now = this.clock.now().getTime();
    const docs = await this.store.find(BREACH_DOCS, filter, { sort: [['breachedAt', -1]], limit });
    return {
      items: docs.map((d) => {
        const metAt = typeof d['metAt'] === 'string' ? d['metAt'] : null;
        const end = metAt ? Date.parse(metAt) : now;
        return {
          complaintId: d['complaintId'],
          customerId: d['customerId'],
          ownerId: d['ownerId'],
          priority: d['priority'],
          kind: d['kind'],
          dueAt: d['dueAt'],
          breachedAt: d['breachedAt'],
          detectedAt: d['detectedAt'],
          metAt,
          stillOpen: metAt === null,
          minutesLate: Math.max(0, Math.floor((end - Date.parse(String(d['dueAt']))) / 60_000)),
        };
      }),
      asOfPosition,
    };
  }

  @Get('follow-ups')
  @Roles('agent', 'admin')
  @ApiOperation({ summary: 'Follow-ups (open by default), earliest due first' })
  @ApiQuery({ name: 'dueBefore', required: false }) @ApiQuery({ name: 'ownerId', required: false })
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'completed', 'cancelled'] })
  @ApiQuery({ name: 'customerId', required: false }) @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'minPosition', required: false })
  async followUps(
    @Query('dueBefore') dueBeforeParam: string | undefined,
    @Query('ownerId') ownerId: string | undefined,
    @Query('status') statusParam: string | undefined,
    @Query('customerId') customerId: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
  ): Promise<unknown> {
    const dueBefore = instantParam(dueBeforeParam, 'dueBefore');
    const status = enumParam(statusParam, 'status', ['open', 'completed', 'cancelled'] as const) ?? 'open';
    const limit = intParam(limitParam, 'limit', 100, 1, 1000);
    const filter: Record<string, DocQuery[string]> = { status };
    if (dueBefore) filter['dueAt'] = { $lt: dueBefore };
    if (ownerId) filter['ownerId'] = ownerId;
    if (customerId) filter['customerId'] = customerId;
    const asOfPosition = await this.gate.atLeast(followUpsProjection, minPosition);
    const now = this.clock.now().toISOString();
    const docs = await this.store.find(FOLLOW_UP_DOCS, filter, { sort: [['dueAt', 1]], limit });
    return {
      items: docs.map((d) => ({ ...withoutStoreFields(d), overdue: d['status'] === 'open' && String(d['dueAt']) < now })),
      asOfPosition,
    };
  }
}
