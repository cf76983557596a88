import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiBoolQuery, ApiEnumQuery, ApiIdQuery, ApiInstantQuery, ApiIntQuery, ApiProblems, ApiReadModel } from '../http/openapi/api-decorators';
import { ComplaintBoard, ComplaintDetailView, FollowUpList, SlaBreachList, type ComplaintView, type FollowUpView } from './complaint-queries.responses';
import { PRIORITIES, REDACTED, SLA_KINDS } from '@crm/domain';
import {
  COMPLAINTS, complaintsProjection, customerMergesProjection, FOLLOW_UPS, groupIds, mergeAliasOf, followUpsProjection, physicalCollection, READ_MODEL_STORE, SLA_BREACHES,
  slaBreachesProjection, type BreachDoc, type ComplaintDoc, type FollowUpDoc, type Query as DocQuery, type ReadModelStore,
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

/** A follow-up as `GET /follow-ups` answers it: the document's fields, its last position, and whether it is overdue. */
function followUpView(d: FollowUpDoc, now: string): FollowUpView {
  return {
    followUpId: d.followUpId,
    customerId: d.customerId,
    ownerId: d.ownerId,
    dueAt: d.dueAt,
    reason: d.reason,
    complaintId: d.complaintId,
    status: d.status,
    scheduledAt: d.scheduledAt,
    closedAt: d.closedAt,
    note: d.note,
    lastPosition: d._position,
    overdue: d.status === 'open' && d.dueAt < now,
  };
}

/** Analysts see a complaint's free text (ComplaintFiled's personal fields) redacted (docs/privacy.md). */
function freeText(value: string, who: Principal): string {
  return who.role === 'analyst' && value !== undefined && value !== null ? REDACTED : value;
}

/**
 * A complaint on the board: the complaints projection's fields, field by field (the SLA watcher's bookkeeping stays
 * out), and the SLA state of issue 16 with its defaults (a complaint that never waited, changed priority or escalated
 * has no such fields in the read model). `pausedMinutes`: the SLA minutes finished waits took off the clocks, plus the
 * current wait so far (wall-clock minutes until it ends).
 */
function complaintView(doc: ComplaintDoc, who: Principal, now: Date): ComplaintView {
  // Waiting since then, or null when not waiting.
  const pausedSince = doc.paused === true && typeof doc.pausedSince === 'string' ? doc.pausedSince : null;
  const stopped = pausedSince !== null && doc.clocksStopped === true;
  const current = stopped ? Math.max(0, Math.floor((now.getTime() - Date.parse(pausedSince)) / 60_000)) : 0;
  return {
    complaintId: doc.complaintId,
    customerId: doc.customerId,
    ownerId: doc.ownerId,
    status: doc.status,
    open: doc.open,
    priority: doc.priority,
    channel: doc.channel,
    category: freeText(doc.category, who),
    description: freeText(doc.description, who),
    filedAt: doc.filedAt,
    slaPolicyVersion: doc.slaPolicyVersion,
    firstResponseDueAt: doc.firstResponseDueAt,
    resolutionDueAt: doc.resolutionDueAt,
    firstRespondedAt: doc.firstRespondedAt,
    firstResponseMetAt: doc.firstResponseMetAt,
    resolvedAt: doc.resolvedAt,
    closedAt: doc.closedAt,
    resolvedAtFirstContact: doc.resolvedAtFirstContact,
    reopenCount: doc.reopenCount,
    breached: doc.breached,
    breaches: doc.breaches,
    lastPosition: doc._position,
    paused: pausedSince !== null,
    pausedSince,
    clocksStopped: stopped,
    pausedMinutes: (typeof doc.pausedMinutes === 'number' ? doc.pausedMinutes : 0) + current,
    filingPriority: doc.filingPriority ?? doc.priority,
    priorityChanges: doc.priorityChanges ?? 0,
    escalated: doc.escalated === true,
    escalations: doc.escalations ?? [],
    nextEscalationAt: stopped ? null : (doc.nextEscalationDueAt ?? null),
  };
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
  @ApiReadModel(ComplaintBoard)
  @ApiEnumQuery('status', STATUSES, { description: 'open: filed or responded' }) @ApiIdQuery('ownerId')
  @ApiBoolQuery('breached', 'Only complaints that missed (true) or met (false) their SLA deadlines')
  @ApiIdQuery('customerId', 'Ignored for the customer role (always its own)', '01936f1e-0000-7000-8000-000000000001')
  @ApiBoolQuery('escalated', 'Complaints with (or without) an escalation recorded')
  @ApiBoolQuery('paused', 'Complaints waiting (or not) for the customer')
  @ApiIntQuery('limit', { min: 1, max: 500, default: 50 }) @ApiIntQuery('offset', { min: 0, max: 1_000_000, default: 0 })
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
  ): Promise<ComplaintBoard> {
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
    if (customerId) filter['customerId'] = await this.customerOrGroup(customerId, minPosition);
    const asOfPosition = await this.gate.atLeast(complaintsProjection, minPosition);
    const [docs, total] = await Promise.all([
      this.store.find(COMPLAINT_DOCS, filter, { sort: [['filedAt', -1]], limit, skip: offset }),
      this.store.count(COMPLAINT_DOCS, filter),
    ]);
    const now = this.clock.now();
    return { items: (docs as ComplaintDoc[]).map((d) => complaintView(d, who, now)), total, limit, offset, asOfPosition };
  }

  /** A survivor's complaints and follow-ups include its merged duplicates' (docs/read-models.md "Merged customers"). */
  private async customerOrGroup(customerId: string, minPosition: number | undefined): Promise<DocQuery[string]> {
    await this.gate.atLeast(customerMergesProjection, minPosition);
    const ids = groupIds(customerId, await mergeAliasOf(this.store, customerId));
    return ids.length === 1 ? customerId : { $in: ids };
  }

  @Get('complaints/:id')
  @Roles('agent', 'admin', 'analyst', 'auditor', 'customer')
  @ApiOperation({ summary: 'One complaint with status, owner, SLA deadlines and breaches' })
  @ApiReadModel(ComplaintDetailView) @ApiProblems('complaint-not-found')
  async one(@IdParam('id') id: string, @MinPosition() minPosition: number | undefined, @CurrentPrincipal() who: Principal): Promise<ComplaintDetailView> {
    const asOfPosition = await this.gate.atLeast(complaintsProjection, minPosition);
    // A customer's lookup carries its own customer id, so another customer's complaint is not found by the very
    // query that finds no unknown id: no document is read, so the two cannot be told apart (even by timing, which a
    // read-then-compare did give away: loading the other customer's document cost measurably more).
    const doc = who.role === 'customer'
      ? (await this.store.find(COMPLAINT_DOCS, { complaintId: id, customerId: await this.customerOrGroup(who.customerId ?? '', minPosition) }, { limit: 1 }))[0]
      : await this.store.get(COMPLAINT_DOCS, id);
    if (!doc) throw problems.notFound('complaint-not-found', `Complaint ${id} not found`);
    return { id, ...complaintView(doc as ComplaintDoc, who, this.clock.now()), asOfPosition };
  }

  @Get('sla/breaches')
  @Roles('agent', 'admin', 'analyst', 'auditor')
  @ApiOperation({ summary: 'Missed SLA deadlines with minutes late (until now while still unmet)' })
  @ApiReadModel(SlaBreachList)
  @ApiInstantQuery('from', 'Breached at or after') @ApiInstantQuery('to', 'Breached before') @ApiIdQuery('ownerId')
  @ApiEnumQuery('priority', PRIORITIES) @ApiEnumQuery('kind', SLA_KINDS) @ApiIntQuery('limit', { min: 1, max: 1000, default: 100 })
  async breaches(
    @Query('from') fromParam: string | undefined,
    @Query('to') toParam: string | undefined,
    @Query('ownerId') ownerId: string | undefined,
    @Query('priority') priorityParam: string | undefined,
    @Query('kind') kindParam: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
  ): Promise<SlaBreachList> {
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
    const docs = (await this.store.find(BREACH_DOCS, filter, { sort: [['breachedAt', -1]], limit })) as BreachDoc[];
    return {
      items: docs.map((d) => {
        const metAt = typeof d.metAt === 'string' ? d.metAt : null;
        const end = metAt ? Date.parse(metAt) : now;
        return {
          complaintId: d.complaintId,
          customerId: d.customerId,
          ownerId: d.ownerId,
          priority: d.priority,
          kind: d.kind,
          dueAt: d.dueAt,
          breachedAt: d.breachedAt,
          detectedAt: d.detectedAt,
          metAt,
          stillOpen: metAt === null,
          minutesLate: Math.max(0, Math.floor((end - Date.parse(d.dueAt)) / 60_000)),
        };
      }),
      asOfPosition,
    };
  }

  @Get('follow-ups')
  @Roles('agent', 'admin')
  @ApiOperation({ summary: 'Follow-ups (open by default), earliest due first' })
  @ApiReadModel(FollowUpList)
  @ApiInstantQuery('dueBefore', 'Due before') @ApiIdQuery('ownerId', 'The agent who owns the follow-up (the signed-in one for "my follow-ups")')
  @ApiEnumQuery('status', ['open', 'completed', 'cancelled'], { default: 'open' })
  @ApiIdQuery('customerId', undefined, '01936f1e-0000-7000-8000-000000000001') @ApiIntQuery('limit', { min: 1, max: 1000, default: 100 })
  async followUps(
    @Query('dueBefore') dueBeforeParam: string | undefined,
    @Query('ownerId') ownerId: string | undefined,
    @Query('status') statusParam: string | undefined,
    @Query('customerId') customerId: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
  ): Promise<FollowUpList> {
    const dueBefore = instantParam(dueBeforeParam, 'dueBefore');
    const status = enumParam(statusParam, 'status', ['open', 'completed', 'cancelled'] as const) ?? 'open';
    const limit = intParam(limitParam, 'limit', 100, 1, 1000);
    const filter: Record<string, DocQuery[string]> = { status };
    if (dueBefore) filter['dueAt'] = { $lt: dueBefore };
    if (ownerId) filter['ownerId'] = ownerId;
    if (customerId) filter['customerId'] = await this.customerOrGroup(customerId, minPosition);
    const asOfPosition = await this.gate.atLeast(followUpsProjection, minPosition);
    const now = this.clock.now().toISOString();
    const docs = (await this.store.find(FOLLOW_UP_DOCS, filter, { sort: [['dueAt', 1]], limit })) as FollowUpDoc[];
    return {
      items: docs.map((d) => followUpView(d, now)),
      asOfPosition,
    };
  }
}
