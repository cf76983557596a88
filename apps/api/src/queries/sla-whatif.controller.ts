import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { checkSlaPolicy, complaintStream, computeSlaDeadlines, PRIORITIES, type Priority, type SlaPolicy } from '@crm/domain';
import { EVENT_STORE, type EventStore, type RecordedEvent } from '@crm/event-store';
import { COMPLAINTS, complaintsProjection, physicalCollection, READ_MODEL_STORE, type ReadModelStore } from '@crm/read-models';
import { CLOCK, SLA_POLICY_BOOK, type Clock, type SlaPolicyStreamBook } from '@crm/runtime';
import { fieldErrors } from '../http/policy-problems';
import { IsObject } from 'class-validator';
import { ApiProperty } from '@nestjs/swagger';
import { Roles } from '../auth/principal';
import { problems } from '../http/problem';
import { IsInstant } from '../http/validation';
import { ReadModelGate } from '../read-side/read-model-gate';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';

export class SlaWhatIfDto {
  @ApiProperty({ description: 'A candidate SLA policy in the shape of PUT /sla/policies: { version, targets: { P1: { firstResponseMinutes, resolutionMinutes, calendar? }, … }, timezone?, businessHours?, holidays? }' })
  @IsObject()
  policy!: Record<string, unknown>;

  @ApiProperty({ description: 'Complaints filed at or after this time' }) @IsInstant()
  from!: string;

  @ApiProperty({ description: 'Complaints filed before this time' }) @IsInstant()
  to!: string;
}

interface ComplaintFacts {
  priority: Priority;
  filedAt: Date;
  firstResponseMetAt: Date | null;
  resolvedAt: Date | null;
}

/** What the log says happened to one complaint: when it was filed, first answered and first resolved. */
function factsOf(events: readonly RecordedEvent[]): ComplaintFacts | null {
  let facts: ComplaintFacts | null = null;
  for (const e of events) {
    const d = e.data as { priority?: Priority; filedAt?: string; respondedAt?: string; resolvedAt?: string };
    if (e.type === 'ComplaintFiled' && d.priority && d.filedAt) {
      facts = { priority: d.priority, filedAt: new Date(d.filedAt), firstResponseMetAt: null, resolvedAt: null };
    } else if (facts && e.type === 'ComplaintResponded' && d.respondedAt) {
      facts.firstResponseMetAt ??= new Date(d.respondedAt);
    } else if (facts && e.type === 'ComplaintResolved' && d.resolvedAt) {
      facts.firstResponseMetAt ??= new Date(d.resolvedAt);
      facts.resolvedAt ??= new Date(d.resolvedAt);
    }
  }
  return facts;
}

function breaches(policy: SlaPolicy, f: ComplaintFacts, now: Date): { firstResponse: boolean; resolution: boolean } {
  const due = computeSlaDeadlines(policy, f.priority, f.filedAt);
  const late = (metAt: Date | null, dueAt: string): boolean => (metAt ?? now).getTime() > Date.parse(dueAt);
  return { firstResponse: late(f.firstResponseMetAt, due.firstResponseDueAt), resolution: late(f.resolvedAt, due.resolutionDueAt) };
}

/**
 * What-if: how many complaints of a period would have breached under a candidate SLA policy, next to the policy in
 * force, both evaluated the same way from the log (first response = first response or resolution; resolution = first
 * resolution; unmet deadlines count as breached once passed by now). Appends nothing.
 */
@ApiTags('analytics')
@ApiBearerAuth()
@UseGuards(IdempotencyGuard)
@Controller('analytics')
export class SlaWhatIfController {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly gate: ReadModelGate,
    @Inject(SLA_POLICY_BOOK) private readonly policies: SlaPolicyStreamBook,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('sla-whatif')
  @HttpCode(200)
  @Roles('analyst', 'admin')
  @ApiOperation({ summary: 'Breaches per priority under a candidate SLA policy vs the policy in force, over a period; appends nothing' })
  async whatIf(@Body() dto: SlaWhatIfDto): Promise<unknown> {
    const checked = checkSlaPolicy(dto.policy);
    if (!checked.policy) {
      // `policy` first with the whole message (as before the policy had calendars), then one entry per field.
      const whole = { field: 'policy', messages: [`SLA policy: ${checked.problems.map((p) => p.message).join('; ')}`] };
      throw problems.validation([whole, ...fieldErrors(checked.problems, 'policy')]);
    }
    const candidate = checked.policy;
    await this.policies.refresh();
    const current = this.policies.current();
    const from = new Date(dto.from).toISOString();
    const to = new Date(dto.to).toISOString();
    const asOfPosition = await this.gate.atLeast(complaintsProjection, await this.events.headPosition());
    const docs = await this.readModels.find(physicalCollection(complaintsProjection, COMPLAINTS), { filedAt: { $gte: from, $lt: to } });
    const now = this.clock.now();
    const empty = (): { complaints: number; current: Tally; candidate: Tally } => ({ complaints: 0, current: tally(), candidate: tally() });
    const perPriority = new Map<Priority, ReturnType<typeof empty>>(PRIORITIES.map((p) => [p, empty()]));
    for (const doc of docs) {
      const facts = factsOf(await this.events.readStream(complaintStream(doc._id)));
      if (!facts) continue;
      const row = perPriority.get(facts.priority);
      if (!row) continue;
      row.complaints += 1;
      add(row.current, breaches(current, facts, now));
      add(row.candidate, breaches(candidate, facts, now));
    }
    return {
      from, to, evaluatedAt: now.toISOString(), currentPolicy: current.version, candidatePolicy: candidate.version,
      priorities: PRIORITIES.map((priority) => {
        const row = perPriority.get(priority) ?? empty();
        return { priority, complaints: row.complaints, current: finish(row.current, row.complaints), candidate: finish(row.candidate, row.complaints) };
      }),
      asOfPosition,
    };
  }
}

interface Tally { breached: number; firstResponse: number; resolution: number }
const tally = (): Tally => ({ breached: 0, firstResponse: 0, resolution: 0 });
function add(t: Tally, b: { firstResponse: boolean; resolution: boolean }): void {
  if (b.firstResponse) t.firstResponse += 1;
  if (b.resolution) t.resolution += 1;
  if (b.firstResponse || b.resolution) t.breached += 1;
}
const finish = (t: Tally, n: number): Tally & { breachRatio: number } => ({ ...t, breachRatio: n ? Math.round((t.breached / n) * 10_000) / 10_000 : 0 });
