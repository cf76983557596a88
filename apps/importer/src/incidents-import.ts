import {
  complaintStream, computeSlaDeadlines, customerStream, type Channel, type ComplaintCommand, type ComplaintEvent, type ComplaintState,
  type Priority, type SlaKind,
} from '@crm/domain';
import { AggregateCache, loadAggregate, type DeciderLike } from '@crm/event-store';
import { statSync } from 'node:fs';
import { readCsvRecords } from './csv';
import { ImportInputError } from './import-errors';
import { execute, registerCustomer, skippingDecider, type ImportContext, type Outcome } from './import-context';
import { serviceNowToUtc } from './source-times';

/**
 * UCI "Incident management process enriched event log" (ServiceNow; one row per update of an incident) → one
 * complaint per incident, filed, assigned, responded to, resolved and closed at the times the log gives, with SLA
 * breaches decided on the incident's own timeline. docs/import.md has every decision.
 */
export const INCIDENT_COLUMNS = [
  'number', 'incident_state', 'caller_id', 'opened_at', 'sys_updated_at', 'contact_type', 'category', 'subcategory',
  'u_symptom', 'priority', 'assigned_to', 'resolved_at', 'closed_at', 'made_sla',
] as const;
type Column = (typeof INCIDENT_COLUMNS)[number];

export const INCIDENT_SKIP_REASONS = [
  'malformed-row',
  /** `caller_id` is `?`: a complaint needs a customer. */
  'no-caller',
  /** `opened_at` missing or unreadable: no filing time, no SLA clock. */
  'no-opened-at',
  /** `priority` is not `1 - …` to `4 - …`. */
  'unknown-priority',
  /** The rows of an incident must be adjacent (the file guarantees it); a number seen again later is refused. */
  'incident-rows-not-adjacent',
] as const;
export type IncidentSkipReason = (typeof INCIDENT_SKIP_REASONS)[number];

export const RESPONSE_STATES: ReadonlySet<string> = new Set([
  'Active', 'Awaiting User Info', 'Awaiting Problem', 'Awaiting Vendor', 'Awaiting Evidence', 'Resolved', 'Closed',
]);

const MISSING = '?';
const CHANNELS: Readonly<Record<string, Channel>> = {
  Phone: 'phone', Email: 'email', 'Self service': 'self-service', 'Direct opening': 'visit', IVR: 'phone',
};
const OWNER_REASON = 'assignment in ServiceNow';

export interface IncidentRow {
  readonly row: number;
  readonly fields: readonly string[];
  readonly get: (column: Column) => string;
}

const slug = (value: string): string => value.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
export const callerCustomerId = (callerId: string): string => `sn-${slug(callerId)}`;
export const incidentComplaintId = (number: string): string => `sn-${number}`;
export const assigneeOwnerId = (assignedTo: string): string => `sn-${slug(assignedTo)}`;

/** `1 - Critical` → P1 … `4 - Low` → P4. */
export function mapPriority(value: string): Priority | null {
  const m = /^([1-4]) - /.exec(value);
  return m ? (`P${m[1]}` as Priority) : null;
}

/** The contact types of the log; anything else (none in the data) is taken as a phone call, the usual way in. */
export function mapChannel(contactType: string): { channel: Channel; defaulted: boolean } {
  const channel = CHANNELS[contactType];
  return channel ? { channel, defaulted: false } : { channel: 'phone', defaulted: true };
}

export type StepKind = 'owner' | 'respond' | 'resolve' | 'close';
const STEP_ORDER: Record<StepKind, number> = { owner: 0, respond: 1, resolve: 2, close: 3 };

export interface IncidentStep {
  readonly kind: StepKind;
  readonly at: string;
  /** The source row the step comes from (rejected with the step's refusal). */
  readonly row: IncidentRow;
  readonly ownerId?: string;
}

export interface IncidentPlan {
  readonly number: string;
  readonly complaintId: string;
  readonly caller: { readonly sourceId: string; readonly customerId: string };
  readonly filedAt: string;
  readonly priority: Priority;
  readonly channel: Channel;
  readonly channelDefaulted: boolean;
  readonly category: string;
  readonly description: string;
  /** In time order; a step's time is never before the one it logically follows (see `clamped`). */
  readonly steps: readonly IncidentStep[];
  /** The latest `sys_updated_at`: an unresolved incident's breaches are decided at this time. */
  readonly lastEventAt: string;
  /** Steps whose source time was earlier than the step they follow, moved forward to it. */
  readonly clamped: number;
  /** The dataset's own verdict on its final row (its SLA policy, not ours). */
  readonly madeSla: boolean | null;
}

const later = (a: string, b: string): string => (a > b ? a : b);

/** The rows of one incident → what happened to it, or why it cannot be imported. Pure, for tests. */
export function planIncident(rows: readonly IncidentRow[]): IncidentPlan | { skip: IncidentSkipReason } {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (!first || !last) return { skip: 'malformed-row' };
  const number = first.get('number');
  const callerId = first.get('caller_id');
  if (callerId === MISSING || callerId === '') return { skip: 'no-caller' };
  const filedAt = serviceNowToUtc(first.get('opened_at'));
  if (!filedAt) return { skip: 'no-opened-at' };
  const priority = mapPriority(first.get('priority'));
  if (!priority) return { skip: 'unknown-priority' };
  const { channel, defaulted } = mapChannel(first.get('contact_type'));
  const category = first.get('category') === MISSING ? 'uncategorised' : first.get('category');

  let clamped = 0;
  const notBefore = (at: string, floor: string): string => {
    if (at >= floor) return at;
    clamped += 1;
    return floor;
  };
  const steps: IncidentStep[] = [];
  const assigned = rows.find((r) => r.get('assigned_to') !== MISSING && r.get('assigned_to') !== '');
  if (assigned) {
    const at = assigned === first ? filedAt : serviceNowToUtc(assigned.get('sys_updated_at'));
    if (at) steps.push({ kind: 'owner', at: notBefore(at, filedAt), row: assigned, ownerId: assigneeOwnerId(assigned.get('assigned_to')) });
  }
  let floor = filedAt;
  const responded = rows.find((r) => RESPONSE_STATES.has(r.get('incident_state')));
  const respondedAt = responded ? serviceNowToUtc(responded.get('sys_updated_at')) : null;
  if (responded && respondedAt) {
    floor = notBefore(respondedAt, floor);
    steps.push({ kind: 'respond', at: floor, row: responded });
  }
  const resolvedAt = serviceNowToUtc(first.get('resolved_at'));
  if (resolvedAt) {
    floor = notBefore(resolvedAt, floor);
    const row = rows.find((r) => r.get('incident_state') === 'Resolved') ?? last;
    steps.push({ kind: 'resolve', at: floor, row });
  }
  const closedRow = rows.find((r) => r.get('incident_state') === 'Closed');
  const closedAt = serviceNowToUtc(first.get('closed_at'));
  if (closedRow && closedAt) steps.push({ kind: 'close', at: notBefore(closedAt, floor), row: closedRow });
  steps.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : STEP_ORDER[a.kind] - STEP_ORDER[b.kind]));

  let lastEventAt = filedAt;
  for (const r of rows) {
    const at = serviceNowToUtc(r.get('sys_updated_at'));
    if (at) lastEventAt = later(lastEventAt, at);
  }
  const madeSla = last.get('made_sla') === 'true' ? true : last.get('made_sla') === 'false' ? false : null;
  const detail = [first.get('category'), first.get('subcategory'), first.get('u_symptom')].filter((v) => v !== MISSING && v !== '').join(' / ');
  return {
    number,
    complaintId: incidentComplaintId(number),
    caller: { sourceId: callerId, customerId: callerCustomerId(callerId) },
    filedAt,
    priority,
    channel,
    channelDefaulted: defaulted,
    category,
    description: `ServiceNow incident ${number}${detail ? `: ${detail}` : ''}`,
    steps,
    lastEventAt,
    clamped,
    madeSla,
  };
}

/** The step, as the API would send it (ownerId of a FileComplaint comes from the customer, as in the API). */
function stepCommand(plan: IncidentPlan, step: IncidentStep): ComplaintCommand {
  const complaintId = plan.complaintId;
  switch (step.kind) {
    case 'owner':
      return { type: 'ChangeComplaintOwner', data: { complaintId, ownerId: step.ownerId ?? '', reason: OWNER_REASON } };
    case 'respond':
      return { type: 'RespondToComplaint', data: { complaintId, message: `ServiceNow: ${step.row.get('incident_state')}`, responderId: 'servicenow', occurredAt: step.at } };
    case 'resolve':
      return { type: 'ResolveComplaint', data: { complaintId, resolution: 'Resolved in ServiceNow', occurredAt: step.at } };
    case 'close':
      return { type: 'CloseComplaint', data: { complaintId, occurredAt: step.at } };
  }
}

/** A repeated import finds each fact already in the stream; these say how, per command. */
function alreadyDone(command: ComplaintCommand, state: ComplaintState): boolean {
  if (!state.exists) return false;
  switch (command.type) {
    case 'FileComplaint':
      return true;
    case 'ChangeComplaintOwner':
      return state.ownerId === command.data.ownerId;
    case 'RespondToComplaint':
      return state.firstRespondedAt !== null;
    case 'ResolveComplaint':
      return state.status === 'resolved' || state.status === 'closed';
    case 'CloseComplaint':
      return state.status === 'closed';
    default:
      return false; // RecordSlaBreach is idempotent in the decider itself.
  }
}

const STEP_COUNTS: Record<StepKind, string> = { owner: 'ownerChanges', respond: 'responses', resolve: 'resolutions', close: 'closes' };

/** The SLA watcher's command, decided at a given instant of the incident's history instead of now. */
type RecordSlaBreachAt = { type: 'RecordSlaBreachAt'; data: { complaintId: string; kind: SlaKind; at: string } };
type ImportComplaintCommand = ComplaintCommand | RecordSlaBreachAt;

/**
 * The complaint decider as the importer drives it: facts already in the stream decide nothing (a repeated import),
 * and `RecordSlaBreachAt` is `RecordSlaBreach` decided with the clock at `at`. One object for every command, so the
 * aggregate cache (keyed by decider) carries a complaint's folded state from one step to the next.
 */
function importComplaintDecider(ctx: ImportContext): DeciderLike<ImportComplaintCommand, ComplaintState, ComplaintEvent> {
  const complaint = ctx.deciders.complaint;
  const skipping = skippingDecider(complaint, alreadyDone);
  return {
    decide: (command, state, now) =>
      command.type === 'RecordSlaBreachAt'
        ? complaint.decide({ type: 'RecordSlaBreach', data: { complaintId: command.data.complaintId, kind: command.data.kind } }, state, new Date(command.data.at))
        : skipping.decide(command, state, now),
    evolve: complaint.evolve,
    initialState: complaint.initialState,
  };
}

export async function importIncidents(ctx: ImportContext, file: string): Promise<{ rows: number }> {
  const complaints = importComplaintDecider(ctx);
  // Each complaint takes ~9 commands in a row: keep its folded state instead of re-reading the whole stream each time.
  const cache = new AggregateCache(4 * ctx.concurrency);
  const callers = new Map<string, string | null>(); // source caller id → refusal code, null when registered or existing
  const finished = new Set<string>();
  const agreement = { compared: 0, agreed: 0 };
  const refusedSteps: Record<string, number> = {};
  let header: string[] | undefined;
  let at: Record<Column, number> | undefined;
  let rows = 0;
  let current: IncidentRow[] = [];
  let batch: IncidentRow[][] = [];
  let incidents = 0;

  const reject = (r: IncidentRow, reason: string): void => {
    ctx.skipped.add(reason);
    ctx.rejects.add(r.row, reason, r.fields);
  };

  /**
   * What the SLA watcher would have done had it run at `atIso`: RecordSlaBreach for both clocks, decided at that
   * instant. A breach is dated at its deadline, as the watcher dates it (the import has no reopens, so the deadlines
   * are the ones computed at filing).
   */
  const breachCheck = async (plan: IncidentPlan, atIso: string): Promise<void> => {
    const due = computeSlaDeadlines(ctx.slaPolicy, plan.priority, new Date(plan.filedAt));
    for (const kind of ['first-response', 'resolution'] as const satisfies readonly SlaKind[]) {
      const outcome = await execute(ctx, {
        decider: complaints, streamId: complaintStream(plan.complaintId), cache,
        command: { type: 'RecordSlaBreachAt', data: { complaintId: plan.complaintId, kind, at: atIso } },
        occurredAt: kind === 'first-response' ? due.firstResponseDueAt : due.resolutionDueAt,
        causationId: `servicenow:${plan.number}:sla`,
      });
      if (outcome.kind === 'appended') ctx.counts.add(kind === 'first-response' ? 'breachesFirstResponse' : 'breachesResolution');
    }
  };

  const importOne = async (plan: IncidentPlan, source: readonly IncidentRow[]): Promise<void> => {
    const streamId = complaintStream(plan.complaintId);
    const customer = await loadAggregate(ctx.store, customerStream(plan.caller.customerId), ctx.deciders.customer);
    const filed: Outcome = customer.state.exists
      ? await execute(ctx, {
        decider: complaints, streamId, cache, occurredAt: plan.filedAt, causationId: `servicenow:${plan.number}`,
        command: {
          type: 'FileComplaint',
          data: {
            complaintId: plan.complaintId, customerId: plan.caller.customerId, channel: plan.channel, category: plan.category,
            priority: plan.priority, description: plan.description, ownerId: customer.state.ownerId, occurredAt: plan.filedAt,
            resolvedAtFirstContact: false,
          },
        },
      })
      : { kind: 'refused', code: 'customer-not-found', message: '' };
    if (filed.kind === 'refused') {
      for (const r of source) reject(r, filed.code);
      return;
    }
    ctx.counts.add(filed.kind === 'appended' ? 'complaintsFiled' : 'complaintsAlreadyImported');
    let resolved = false;
    for (const step of plan.steps) {
      await breachCheck(plan, step.at);
      const outcome = await execute(ctx, {
        decider: complaints, streamId, cache, command: stepCommand(plan, step), occurredAt: step.at,
        causationId: `servicenow:${plan.number}:${step.kind}`,
      });
      if (outcome.kind === 'refused') {
        const reason = `${step.kind}-refused:${outcome.code}`;
        refusedSteps[reason] = (refusedSteps[reason] ?? 0) + 1;
        reject(step.row, reason);
        continue;
      }
      if (step.kind === 'resolve') resolved = true;
      ctx.counts.add(outcome.kind === 'appended' ? STEP_COUNTS[step.kind] : 'stepsAlreadyImported');
    }
    if (!resolved) await breachCheck(plan, plan.lastEventAt);
    if (plan.madeSla !== null) {
      const { state } = await loadAggregate(ctx.store, streamId, complaints, cache);
      if (state.exists) {
        agreement.compared += 1;
        if ((state.breaches.length === 0) === plan.madeSla) agreement.agreed += 1;
      }
    }
  };

  const processBatch = async (): Promise<void> => {
    const plans: Array<{ plan: IncidentPlan; rows: IncidentRow[] }> = [];
    for (const incidentRows of batch) {
      const plan = planIncident(incidentRows);
      if ('skip' in plan) {
        for (const r of incidentRows) reject(r, plan.skip);
        continue;
      }
      if (plan.channelDefaulted) ctx.counts.add('channelDefaultedToPhone');
      if (plan.clamped > 0) ctx.counts.add('stepTimesClamped', plan.clamped);
      plans.push({ plan, rows: incidentRows });
    }
    const newCallers = new Map<string, IncidentPlan>();
    for (const { plan } of plans) if (!callers.has(plan.caller.sourceId) && !newCallers.has(plan.caller.sourceId)) newCallers.set(plan.caller.sourceId, plan);
    await Promise.all([...newCallers.values()].map(async (plan) => {
      const outcome = await registerCustomer(ctx, {
        customerId: plan.caller.customerId,
        name: `ServiceNow ${plan.caller.sourceId}`,
        externalRef: `servicenow:${plan.caller.sourceId}`,
        occurredAt: plan.filedAt,
        causationId: `servicenow:caller:${plan.caller.sourceId}`,
      });
      if (outcome === 'registered') ctx.counts.add('callersRegistered');
      else if (outcome === 'existing') ctx.counts.add('callersExisting');
      callers.set(plan.caller.sourceId, typeof outcome === 'string' ? null : `caller-${outcome.code}`);
    }));
    await Promise.all(plans.map(async ({ plan, rows: source }) => {
      const refused = callers.get(plan.caller.sourceId);
      if (refused) {
        for (const r of source) reject(r, refused);
        return;
      }
      await importOne(plan, source);
    }));
    batch = [];
  };

  const endIncident = async (): Promise<void> => {
    if (current.length === 0) return;
    const number = current[0]?.get('number') ?? '';
    incidents += 1;
    if (finished.has(number)) {
      for (const r of current) reject(r, 'incident-rows-not-adjacent');
    } else {
      finished.add(number);
      batch.push(current);
    }
    current = [];
    if (batch.length >= ctx.concurrency) await processBatch();
  };

  ctx.progress.phase('incidents', Math.ceil(statSync(file).size / 1024), 'kB');
  for await (const records of readCsvRecords(file, (bytes) => ctx.progress.update(Math.floor(bytes / 1024)))) {
    for (const fields of records) {
      if (!header) {
        header = fields;
        at = columnIndexes(header);
        ctx.rejects.setHeader(header);
        continue;
      }
      rows += 1;
      const columns = at!;
      const row: IncidentRow = { row: rows, fields, get: (c) => fields[columns[c]] ?? '' };
      if (fields.length !== header.length) {
        reject(row, 'malformed-row');
        continue;
      }
      if (current.length > 0 && current[0]?.get('number') !== row.get('number')) await endIncident();
      current.push(row);
    }
  }
  if (!header) throw new ImportInputError(`${file} is empty`);
  await endIncident();
  await processBatch();
  ctx.progress.finish();
  ctx.notes['incidents'] = incidents;
  ctx.notes['stepsRefused'] = refusedSteps;
  ctx.notes['madeSlaAgreement'] = {
    compared: agreement.compared,
    agreed: agreement.agreed,
    ratio: agreement.compared === 0 ? null : Math.round((agreement.agreed / agreement.compared) * 10_000) / 10_000,
  };
  return { rows };
}

function columnIndexes(header: readonly string[]): Record<Column, number> {
  const missing = INCIDENT_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new ImportInputError(`not a ServiceNow incident event log: missing column(s) ${missing.join(', ')}`);
  return Object.fromEntries(INCIDENT_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<Column, number>;
}
