import {
  complaintStream, customerStream, type Channel, type ComplaintCommand, type ComplaintEvent, type ComplaintState,
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
 * complaint per incident, filed, assigned and reassigned, responded to, resolved, reopened and closed at the times the
 * log gives, with its priority changes and its "Awaiting …" waits (pause and resume), and with SLA breaches decided
 * on the incident's own timeline. docs/import.md has every decision.
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

/** What one incident's log says happened to it, in the order the importer applies it. */
export const STEP_KINDS = ['priority', 'owner', 'respond', 'pause', 'resume', 'resolve', 'reopen', 'close'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

export interface IncidentStep {
  readonly kind: StepKind;
  readonly at: string;
  /** The source row the step comes from (rejected with the step's refusal). */
  readonly row: IncidentRow;
  /** 1 for the first step of its kind in this incident, 2 for the second, …: names the step in causation ids. */
  readonly ordinal: number;
  /** `owner`: the new owner. */
  readonly ownerId?: string;
  /** `priority`: the new priority. */
  readonly priority?: Priority;
  /** `pause`: the source state that paused it (`Awaiting User Info`, …). */
  readonly state?: string;
}

export interface IncidentPlan {
  readonly number: string;
  readonly complaintId: string;
  readonly caller: { readonly sourceId: string; readonly customerId: string };
  readonly filedAt: string;
  /** At filing: the first row's. Later changes are `priority` steps. */
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
  /** Rows where `assigned_to` went back to `?`: a complaint cannot be un-owned, so the last owner keeps it. */
  readonly unassignments: number;
  /** Resolved states in the log with no `resolved_at` and no reopen after them: not imported as resolutions. */
  readonly resolvedRowsWithoutResolvedAt: number;
  /** The dataset's own verdict on its final row (its SLA policy, not ours). */
  readonly madeSla: boolean | null;
}

const later = (a: string, b: string): string => (a > b ? a : b);
const isAwaiting = (state: string): boolean => state.startsWith('Awaiting ');
/** The stray `-100` (and anything unknown) says nothing about the lifecycle: no step comes from it. */
const KNOWN_STATES: ReadonlySet<string> = new Set(['New', ...RESPONSE_STATES]);

/**
 * The rows of one incident → what happened to it, or why it cannot be imported. Pure, for tests.
 *
 * One pass over the rows in file order (the order they happened). On each row, in this order: a priority other than
 * the current one (`priority`), an assignee other than the current owner (`owner`; `?` un-assigns, which a complaint
 * cannot be, so it is counted, not imported), and the state: a state other than Resolved or Closed after a Resolved
 * run reopens (`resolve` at the run's first row, then `reopen`; ServiceNow reopens Closed incidents too, the domain
 * never a closed complaint, so only the final close is imported), the first state later than New responds, entering
 * an Awaiting state pauses, leaving one resumes. The last resolution is `resolved_at` (the source's own figure for
 * time to resolve) and the close is `closed_at`, after everything else.
 *
 * Times: a row's `sys_updated_at` (a first-row owner is assigned at filing). Steps of the lifecycle (respond,
 * resolve, reopen, close) and of the pause clock (pause, resume) never go back in time within their chain; anything
 * dated before filing or before its chain's previous step is moved to that time and counted (`clamped`). Steps are
 * then sorted by time, ties in the order the log gave them.
 */
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
  const floors = { lifecycle: filedAt, pause: filedAt, free: filedAt };
  const chainOf = (kind: StepKind): keyof typeof floors =>
    kind === 'pause' || kind === 'resume' ? 'pause' : kind === 'priority' || kind === 'owner' ? 'free' : 'lifecycle';
  const ordinals: Partial<Record<StepKind, number>> = {};
  const planned: Array<IncidentStep & { seq: number }> = [];
  const add = (kind: StepKind, at: string | null, row: IncidentRow, extra: Pick<IncidentStep, 'ownerId' | 'priority' | 'state'> = {}): void => {
    if (!at) return;
    const chain = chainOf(kind);
    let when = at;
    if (when < floors[chain]) {
      clamped += 1;
      when = floors[chain];
    }
    if (chain !== 'free') floors[chain] = when;
    const ordinal = (ordinals[kind] ?? 0) + 1;
    ordinals[kind] = ordinal;
    planned.push({ kind, at: when, row, ordinal, seq: planned.length, ...extra });
  };

  let currentPriority: Priority = priority;
  let owner: string | null = null;
  let unassignments = 0;
  let responded = false;
  let paused = false;
  let resolvedRun: IncidentRow | null = null;
  let closedRow: IncidentRow | null = null;
  let lastEventAt = filedAt;
  for (const [i, r] of rows.entries()) {
    const at = i === 0 ? filedAt : serviceNowToUtc(r.get('sys_updated_at'));
    const updatedAt = serviceNowToUtc(r.get('sys_updated_at'));
    if (updatedAt) lastEventAt = later(lastEventAt, updatedAt);
    const rowPriority = mapPriority(r.get('priority'));
    if (rowPriority && rowPriority !== currentPriority) {
      add('priority', at, r, { priority: rowPriority });
      currentPriority = rowPriority;
    }
    const assignee = r.get('assigned_to');
    if (assignee === MISSING || assignee === '') {
      if (owner !== null && i > 0 && rows[i - 1]?.get('assigned_to') !== MISSING) unassignments += 1;
    } else if (assigneeOwnerId(assignee) !== owner) {
      owner = assigneeOwnerId(assignee);
      add('owner', at, r, { ownerId: owner });
    }
    const state = r.get('incident_state');
    if (!KNOWN_STATES.has(state)) continue;
    if (resolvedRun && state !== 'Resolved' && state !== 'Closed') {
      add('resolve', serviceNowToUtc(resolvedRun.get('sys_updated_at')), resolvedRun);
      add('reopen', updatedAt, r);
      resolvedRun = null;
    }
    if (!responded && RESPONSE_STATES.has(state)) {
      add('respond', updatedAt, r);
      responded = true;
    }
    if (paused && !isAwaiting(state)) {
      add('resume', updatedAt, r);
      paused = false;
    } else if (!paused && isAwaiting(state)) {
      add('pause', updatedAt, r, { state });
      paused = true;
    }
    if (state === 'Resolved' && !resolvedRun) resolvedRun = r;
    if (state === 'Closed' && !closedRow) closedRow = r;
  }
  const resolvedAt = serviceNowToUtc(first.get('resolved_at'));
  let resolvedRowsWithoutResolvedAt = 0;
  if (resolvedAt) add('resolve', resolvedAt, resolvedRun ?? closedRow ?? last);
  else if (resolvedRun) resolvedRowsWithoutResolvedAt = 1;
  if (closedRow) add('close', serviceNowToUtc(first.get('closed_at')), closedRow);
  planned.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
  const steps: IncidentStep[] = planned.map(({ seq: _seq, ...step }) => step);

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
    unassignments,
    resolvedRowsWithoutResolvedAt,
    madeSla,
  };
}

const REASSIGN_REASON = 'reassignment in ServiceNow';
const REOPEN_REASON = 'reopened in ServiceNow';
const PRIORITY_REASON = 'priority changed in ServiceNow';

/** The step as the API would send it (ownerId of a FileComplaint comes from the customer, as in the API). */
export function stepCommand(plan: IncidentPlan, step: IncidentStep): ComplaintCommand {
  const complaintId = plan.complaintId;
  switch (step.kind) {
    case 'owner':
      return { type: 'ChangeComplaintOwner', data: { complaintId, ownerId: step.ownerId ?? '', reason: step.ordinal === 1 ? OWNER_REASON : REASSIGN_REASON } };
    case 'respond':
      return { type: 'RespondToComplaint', data: { complaintId, message: `ServiceNow: ${step.row.get('incident_state')}`, responderId: 'servicenow', occurredAt: step.at } };
    case 'resolve':
      return { type: 'ResolveComplaint', data: { complaintId, resolution: 'Resolved in ServiceNow', occurredAt: step.at } };
    case 'reopen':
      return { type: 'ReopenComplaint', data: { complaintId, reason: REOPEN_REASON, occurredAt: step.at } };
    case 'close':
      return { type: 'CloseComplaint', data: { complaintId, occurredAt: step.at } };
    case 'priority':
      return { type: 'ChangeComplaintPriority', data: { complaintId, priority: step.priority ?? plan.priority, reason: PRIORITY_REASON, occurredAt: step.at } };
    case 'pause':
      // Every Awaiting state is a wait for the customer here (the domain's one pause); the reason keeps which one.
      return { type: 'AwaitCustomer', data: { complaintId, reason: `ServiceNow: ${step.state ?? 'Awaiting'}`, occurredAt: step.at } };
    case 'resume':
      return {
        type: 'ResumeComplaint',
        data: { complaintId, reason: `ServiceNow: ${step.row.get('incident_state')}`, occurredAt: step.at, trigger: 'agent' },
      };
  }
}

/** Names the step in its events' metadata; a repeated import finds the step done by this name. */
export const stepCausationId = (plan: Pick<IncidentPlan, 'number'>, step: Pick<IncidentStep, 'kind' | 'ordinal'>): string =>
  `servicenow:${plan.number}:${step.kind}${step.ordinal > 1 ? `:${step.ordinal}` : ''}`;

/** Per step kind: imported, found already imported (a repeated import), or refused by the domain. */
export type StepTally = Record<StepKind, { imported: number; alreadyImported: number; refused: number }>;

const STEP_COUNTS: Record<StepKind, string> = {
  priority: 'priorityChanges', owner: 'ownerChanges', respond: 'responses', pause: 'pauses', resume: 'resumes',
  resolve: 'resolutions', reopen: 'reopens', close: 'closes',
};

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
  // Later steps are found done by their causation id (a complaint may be resolved, reopened and resolved again, so
  // its state alone cannot say which of those a repeated import has already applied).
  const skipping = skippingDecider(complaint, (command, state) => command.type === 'FileComplaint' && state.exists);
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
  const steps = Object.fromEntries(STEP_KINDS.map((k) => [k, { imported: 0, alreadyImported: 0, refused: 0 }])) as StepTally;
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
   * instant. A breach is dated at its deadline, as the watcher dates it: the deadline in force then (a reopen sets a
   * new resolution deadline), read from the complaint's folded state.
   */
  const breachCheck = async (plan: IncidentPlan, atIso: string): Promise<void> => {
    const streamId = complaintStream(plan.complaintId);
    for (const kind of ['first-response', 'resolution'] as const satisfies readonly SlaKind[]) {
      const { state } = await loadAggregate(ctx.store, streamId, complaints, cache);
      if (!state.exists) return;
      const outcome = await execute(ctx, {
        decider: complaints, streamId, cache,
        command: { type: 'RecordSlaBreachAt', data: { complaintId: plan.complaintId, kind, at: atIso } },
        occurredAt: kind === 'first-response' ? state.sla.firstResponseDueAt : state.sla.resolutionDueAt,
        causationId: `servicenow:${plan.number}:sla`,
      });
      if (outcome.kind === 'appended') ctx.counts.add(kind === 'first-response' ? 'breachesFirstResponse' : 'breachesResolution');
    }
  };

  /** Causation ids of the complaint's events: the steps an earlier import of this file has applied. */
  const stepsDone = async (streamId: string): Promise<Set<string>> => {
    const done = new Set<string>();
    for (const event of await ctx.store.readStream(streamId)) {
      const causationId = event.metadata['causationId'];
      if (typeof causationId === 'string') done.add(causationId);
    }
    return done;
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
    const done = filed.kind === 'appended' ? new Set<string>() : await stepsDone(streamId);
    let resolved = false;
    for (const step of plan.steps) {
      const tally = steps[step.kind];
      const command = stepCommand(plan, step);
      const causationId = stepCausationId(plan, step);
      if (done.has(causationId)) {
        tally.alreadyImported += 1;
        ctx.counts.add('stepsAlreadyImported');
        resolved = step.kind === 'resolve' ? true : step.kind === 'reopen' ? false : resolved;
        continue;
      }
      await breachCheck(plan, step.at);
      const outcome = await execute(ctx, { decider: complaints, streamId, cache, command, occurredAt: step.at, causationId });
      if (outcome.kind === 'refused') {
        const reason = `${step.kind}-refused:${outcome.code}`;
        refusedSteps[reason] = (refusedSteps[reason] ?? 0) + 1;
        tally.refused += 1;
        reject(step.row, reason);
        continue;
      }
      resolved = step.kind === 'resolve' ? true : step.kind === 'reopen' ? false : resolved;
      if (outcome.kind === 'appended') {
        tally.imported += 1;
        ctx.counts.add(STEP_COUNTS[step.kind]);
      } else {
        tally.alreadyImported += 1;
        ctx.counts.add('stepsAlreadyImported');
      }
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
      if (plan.unassignments > 0) ctx.counts.add('unassignmentsNotImported', plan.unassignments);
      if (plan.resolvedRowsWithoutResolvedAt > 0) ctx.counts.add('resolvedWithoutResolvedAt', plan.resolvedRowsWithoutResolvedAt);
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
  ctx.notes['steps'] = steps;
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
