import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runImport } from '../../apps/importer/src/run-import';
import type { ImportSummary } from '../../apps/importer/src/summary';
import { readCsvObjects } from '../support/plain-csv';
import { makeTempDir } from '../support/temp-dir';
import { startTestApp, TOKENS, type TestApp } from '../support/test-app';

/**
 * The ServiceNow sample (2,000 whole incidents, 11,550 events) imported as complaints and read back over HTTP.
 * Expected values come from the CSV through a plain script; one incident's breaches are worked out by hand.
 */
const SAMPLE = join(__dirname, '..', '..', '..', 'shared', 'data', 'servicenow-incidents', 'incident_event_log-sample.csv');
const present = existsSync(SAMPLE);
if (!present) console.warn(`import-incidents e2e skipped: ${SAMPLE} is missing`);

const MINUTE_MS = 60_000;
/** sla-2026-01 (docs/event-catalogue.md): first response / resolution targets in minutes. */
const TARGETS: Record<string, [number, number]> = { P1: [60, 240], P2: [240, 1440], P3: [480, 4320], P4: [1440, 10080] };
const LATER_THAN_NEW = new Set(['Active', 'Awaiting User Info', 'Awaiting Problem', 'Awaiting Vendor', 'Awaiting Evidence', 'Resolved', 'Closed']);

function dayFirst(text: string): number | null {
  const m = /^(\d+)\/(\d+)\/(\d{4}) (\d+):(\d+)$/.exec(text);
  return m ? Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1]), Number(m[4]), Number(m[5])) : null;
}

interface PerPriority {
  complaints: number;
  resolved: number;
  breached: number;
  hoursToResolve: number[];
}

/** Priority changes and "Awaiting …" pauses are imported (issue 16 items 2, 3, 8): both move the deadlines. */
const IMPORTS = { priorityChanges: true, pauses: true };

type Step = { at: number; kind: 'priority' | 'owner' | 'respond' | 'pause' | 'resume' | 'resolve' | 'reopen' | 'close'; priority?: string };

/**
 * The incident's steps read off its rows as docs/import.md describes them (written here again, not taken from the
 * importer): on each row a priority change, a new assignee, then the state (a reopen after a run of Resolved rows,
 * the first state later than New responds, Awaiting pauses, leaving it resumes); the last resolution at
 * `resolved_at`, the close at `closed_at`; in time order, ties in row order.
 */
function stepsOf(events: Array<Record<string, string>>, opened: number): Step[] {
  const steps: Array<Step & { seq: number }> = [];
  const add = (at: number | null, kind: Step['kind'], priority?: string): void => {
    if (at !== null) steps.push({ at, kind, seq: steps.length, ...(priority ? { priority } : {}) });
  };
  let priority = events[0]?.['priority'];
  let owner = '?';
  let responded = false;
  let paused = false;
  let runStart: number | null = null;
  let closed = false;
  events.forEach((e, i) => {
    const at = i === 0 ? opened : dayFirst(e['sys_updated_at'] ?? '');
    const updated = dayFirst(e['sys_updated_at'] ?? '');
    if (e['priority'] !== priority) {
      priority = e['priority'];
      add(at, 'priority', `P${(priority ?? '')[0]}`);
    }
    if (e['assigned_to'] !== '?' && e['assigned_to'] !== owner) {
      owner = e['assigned_to'] ?? '?';
      add(at, 'owner');
    }
    const state = e['incident_state'] ?? '';
    if (runStart !== null && state !== 'Resolved' && state !== 'Closed') {
      add(runStart, 'resolve');
      add(updated, 'reopen');
      runStart = null;
    }
    if (!responded && LATER_THAN_NEW.has(state)) {
      add(updated, 'respond');
      responded = true;
    }
    const awaiting = state.startsWith('Awaiting');
    if (paused !== awaiting) add(updated, awaiting ? 'pause' : 'resume');
    paused = awaiting;
    if (state === 'Resolved' && runStart === null) runStart = updated;
    closed ||= state === 'Closed';
  });
  add(dayFirst(events[0]?.['resolved_at'] ?? ''), 'resolve');
  if (closed) add(dayFirst(events[0]?.['closed_at'] ?? ''), 'close');
  return steps.sort((x, y) => x.at - y.at || x.seq - y.seq);
}

/**
 * Whether the incident breaches an SLA, replaying its steps the way the importer drives the SLA watcher: before each
 * imported step, at its time, a running clock that is not paused and has reached its deadline breaches (once per
 * clock; a reopen starts a new resolution clock); after the last step, an unresolved incident is checked once more at
 * its last update. A deadline is the clock's start + the target of the current priority + the time of the pauses
 * that ended since the clock started (24x7, as sla-2026-01).
 */
function breaches(steps: readonly Step[], opened: number, firstPriority: string, lastUpdate: number): boolean {
  let priority = firstPriority;
  let answered = false;
  let resolved = false;
  let closed = false;
  let pausedSince: number | null = null;
  const pauses: Array<[number, number]> = [];
  let resolutionStart = opened;
  let breached = { firstResponse: false, resolution: false };
  const pausedAfter = (start: number): number => pauses.reduce((sum, [from, to]) => sum + Math.max(0, to - Math.max(from, start)), 0);
  const due = (start: number, minutes: number): number => start + minutes * MINUTE_MS + pausedAfter(start);
  const check = (at: number): void => {
    if (closed || pausedSince !== null) return;
    const [firstResponseMinutes, resolutionMinutes] = TARGETS[priority]!;
    if (!answered && !breached.firstResponse && at >= due(opened, firstResponseMinutes)) breached = { ...breached, firstResponse: true };
    if (!resolved && at >= due(resolutionStart, resolutionMinutes)) breached = { ...breached, resolution: true };
  };
  let ever = false;
  for (const step of steps) {
    const imported = step.kind === 'priority' ? IMPORTS.priorityChanges : step.kind === 'pause' || step.kind === 'resume' ? IMPORTS.pauses : true;
    if (!imported) continue;
    check(step.at);
    ever ||= breached.firstResponse || breached.resolution;
    if (step.kind === 'priority') priority = step.priority ?? priority;
    else if (step.kind === 'respond') answered = true;
    else if (step.kind === 'pause') pausedSince = step.at;
    else if ((step.kind === 'resume' || step.kind === 'resolve') && pausedSince !== null) {
      pauses.push([pausedSince, step.at]);
      pausedSince = null;
    }
    if (step.kind === 'resolve') {
      resolved = true;
      answered = true;
    } else if (step.kind === 'reopen') {
      resolved = false;
      resolutionStart = step.at;
      breached = { ...breached, resolution: false };
    } else if (step.kind === 'close') closed = true;
  }
  if (!resolved) check(lastUpdate);
  return ever || breached.firstResponse || breached.resolution;
}

/**
 * Per incident (rows grouped by `number`, callers `?` left out): counted under its current priority (the last
 * recorded once priority changes are imported, else the first row's); resolved when `resolved_at` is set, in hours
 * from `opened_at`; breached as `breaches` replays it.
 */
function computeExpected(fromMs = -Infinity, toMs = Infinity): { incidents: number; perPriority: Map<string, PerPriority> } {
  const { rows } = readCsvObjects(SAMPLE);
  const incidents = new Map<string, Array<Record<string, string>>>();
  for (const r of rows) incidents.set(r['number'] ?? '', [...(incidents.get(r['number'] ?? '') ?? []), r]);
  const perPriority = new Map<string, PerPriority>();
  let count = 0;
  for (const events of incidents.values()) {
    const first = events[0]!;
    if (first['caller_id'] === '?') continue;
    const opened = dayFirst(first['opened_at'] ?? '')!;
    if (opened < fromMs || opened >= toMs) continue;
    count += 1;
    const filedPriority = `P${(first['priority'] ?? '')[0]}`;
    const priority = IMPORTS.priorityChanges ? `P${(events[events.length - 1]!['priority'] ?? '')[0]}` : filedPriority;
    const resolved = dayFirst(first['resolved_at'] ?? '');
    const lastUpdate = Math.max(...events.map((e) => dayFirst(e['sys_updated_at'] ?? '') ?? 0));
    const p = perPriority.get(priority) ?? { complaints: 0, resolved: 0, breached: 0, hoursToResolve: [] };
    p.complaints += 1;
    if (breaches(stepsOf(events, opened), opened, filedPriority, lastUpdate)) p.breached += 1;
    if (resolved !== null) {
      p.resolved += 1;
      p.hoursToResolve.push((resolved - opened) / 3_600_000);
    }
    perPriority.set(priority, p);
  }
  return { incidents: count, perPriority };
}

interface ScriptFigures {
  readonly complaints: number;
  readonly resolved: number;
  readonly medianHoursToResolve: number | null;
}
interface SourceFigures {
  readonly perPriority: Record<string, ScriptFigures>;
  readonly perPriorityAtFiling: Record<string, ScriptFigures>;
  readonly total: ScriptFigures;
  readonly facts: Record<'priorityChanges' | 'incidentsChangingPriority' | 'awaitingEpisodes' | 'incidentsAssigned' | 'reassignments' | 'unassignments' | 'reopens', number>
    & { readonly awaitingRows: Record<string, number> };
}

/** scripts/incident-figures.js: figures from the CSV by a plain Node script that shares no code with the importer. */
let figuresCache: SourceFigures | undefined;
function sourceFigures(): SourceFigures {
  figuresCache ??= JSON.parse(
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'incident-figures.js'), SAMPLE, '--json'], { encoding: 'utf8' }),
  ) as SourceFigures;
  return figuresCache;
}

function medianOf(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

(present ? describe : describe.skip)('importing the ServiceNow incident sample', () => {
  let dataDir: { dir: string; remove: () => void };
  let first: ImportSummary;
  let t: TestApp;
  let head = 0;
  /** Waits (bounded) for the read models to reach the import: a 503 says the projection is still catching up. */
  const read = async (path: string): Promise<any> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await t.request('GET', `${path}${path.includes('?') ? '&' : '?'}minPosition=${head}`, { token: TOKENS.analyst });
      if (res.status !== 503 || Date.now() > deadline) {
        expect(res.status).toBe(200);
        return res.body;
      }
    }
  };

  beforeAll(async () => {
    dataDir = makeTempDir('crm-import-incidents-');
    first = await runImport({ kind: 'incidents', file: SAMPLE, dataDir: dataDir.dir, env: { SQLITE_SYNCHRONOUS: 'NORMAL' } });
    head = first.eventsAppended;
    t = await startTestApp({ now: new Date('2017-03-01T00:00:00Z'), env: { DATA_DIR: dataDir.dir } });
  }, 240_000); // ~10 s alone; several times that on a machine shared by parallel suites (42 s measured at load 20)

  afterAll(async () => {
    await t?.close();
    dataDir?.remove();
  });

  it('files one complaint per incident and resolves those ServiceNow resolved, reopens and reassigns as the log does', () => {
    const { incidents, perPriority } = computeExpected();
    const resolved = [...perPriority.values()].reduce((s, p) => s + p.resolved, 0);
    const { facts } = sourceFigures();
    expect(first.counts).toMatchObject({
      complaintsFiled: incidents, resolutions: resolved + facts.reopens, reopens: facts.reopens, closes: resolved,
      ownerChanges: facts.incidentsAssigned + facts.reassignments, unassignmentsNotImported: facts.unassignments,
    });
    const none = { alreadyImported: 0, refused: 0 };
    expect(first.notes['steps']).toEqual({
      priority: { ...none, imported: facts.priorityChanges },
      owner: { ...none, imported: facts.incidentsAssigned + facts.reassignments },
      respond: { ...none, imported: incidents },
      pause: { ...none, imported: facts.awaitingEpisodes },
      resume: { ...none, imported: facts.awaitingEpisodes },
      resolve: { ...none, imported: resolved + facts.reopens },
      reopen: { ...none, imported: facts.reopens },
      close: { ...none, imported: resolved, refused: incidents - resolved },
    });
    // ServiceNow closed the others without a resolution; the domain refuses to close an unresolved complaint.
    expect(first.skipped).toEqual({ 'close-refused:complaint-not-resolved': incidents - resolved });
  });

  it('answers SLA performance per priority as computed from the log: counts, breaches, median hours to resolve', async () => {
    const { perPriority } = computeExpected();
    const body = await read('/analytics/sla');
    for (const item of body.items as Array<{ priority: string; complaints: number; breached: number; resolved: number; breachRatio: number | null; medianHoursToResolve: number | null }>) {
      const want = perPriority.get(item.priority) ?? { complaints: 0, resolved: 0, breached: 0, hoursToResolve: [] };
      const median = medianOf(want.hoursToResolve);
      expect(item).toMatchObject({
        complaints: want.complaints,
        resolved: want.resolved,
        breached: want.breached,
        breachRatio: want.complaints ? Math.round((want.breached / want.complaints) * 10_000) / 10_000 : null,
        medianHoursToResolve: median === null ? null : Math.round(median * 100) / 100,
      });
    }
    expect(body.items.map((i: { priority: string }) => i.priority)).toEqual(['P1', 'P2', 'P3', 'P4']);
    expect(body.total.complaints).toBe(computeExpected().incidents);
  });

  it('counts what issue 16 says of the sample: 28 incidents change priority, about 1,250 rows are Awaiting User Info', () => {
    const { facts } = sourceFigures();
    expect(facts.incidentsChangingPriority).toBe(28);
    expect(facts.priorityChanges).toBe(30);
    expect(facts.awaitingRows).toEqual({ 'Awaiting User Info': 1253, 'Awaiting Problem': 37, 'Awaiting Vendor': 33 });
  });

  type Served = { priorityBasis: string; items: Array<ScriptFigures & { priority: string }>; total: ScriptFigures };
  const served = async (query = ''): Promise<Served> => read(`/analytics/sla${query}`);
  const pick = ({ complaints, resolved, medianHoursToResolve }: ScriptFigures): ScriptFigures => ({ complaints, resolved, medianHoursToResolve });

  it('matches the independent script per priority at each incident\'s last recorded priority: complaints, resolved, median hours to resolve', async () => {
    const figures = sourceFigures();
    const body = await served();
    expect(body.priorityBasis).toBe('current');
    expect(pick(body.total)).toEqual(figures.total);
    expect(Object.fromEntries(body.items.map((i) => [i.priority, pick(i)]))).toEqual(figures.perPriority);
  });

  it('matches the independent script per priority at filing with ?priorityAt=filing', async () => {
    const figures = sourceFigures();
    const body = await served('?priorityAt=filing');
    expect(pick(body.total)).toEqual(figures.total);
    expect(Object.fromEntries(body.items.map((i) => [i.priority, pick(i)]))).toEqual(figures.perPriorityAtFiling);
  });

  it('filters by filing time, [from, to)', async () => {
    const from = Date.parse('2016-03-01T00:00:00Z');
    const to = Date.parse('2016-04-01T00:00:00Z');
    const { incidents, perPriority } = computeExpected(from, to);
    const body = await read('/analytics/sla?from=2016-03-01&to=2016-04-01');
    expect(body.total.complaints).toBe(incidents);
    expect(body.total.breached).toBe([...perPriority.values()].reduce((s, p) => s + p.breached, 0));
  });

  it('breaches INC0000473 on its own timeline (worked by hand)', async () => {
    // P3 (3 - Moderate), opened 1/3/2016 01:49 → first response due 09:49 (8 h), resolution due 4/3/2016 01:49 (72 h).
    // Assigned to Resolver 74 from the first row; first Active row 15/3/2016 12:44: both deadlines have passed then,
    // so both breaches are decided then, before that response, and dated at their deadlines as the watcher dates
    // them. Resolved 22/3 15:14, closed 27/3 15:59.
    const body = await read('/complaints/sn-INC0000473');
    expect(body).toMatchObject({
      customerId: 'sn-caller-3136',
      ownerId: 'sn-resolver-74',
      priority: 'P3',
      channel: 'phone',
      status: 'closed',
      filedAt: '2016-03-01T01:49:00.000Z',
      firstResponseDueAt: '2016-03-01T09:49:00.000Z',
      resolutionDueAt: '2016-03-04T01:49:00.000Z',
      firstRespondedAt: '2016-03-15T12:44:00.000Z',
      resolvedAt: '2016-03-22T15:14:00.000Z',
      closedAt: '2016-03-27T15:59:00.000Z',
      breached: true,
      breaches: [
        { kind: 'first-response', dueAt: '2016-03-01T09:49:00.000Z' },
        { kind: 'resolution', dueAt: '2016-03-04T01:49:00.000Z' },
      ],
    });
    const events = await t.request('GET', '/streams/complaint-sn-INC0000473/events', { token: TOKENS.auditor });
    expect(events.body.events.map((e: { type: string; metadata: { occurredAt: string } }) => [e.type, e.metadata.occurredAt])).toEqual([
      ['ComplaintFiled', '2016-03-01T01:49:00.000Z'],
      ['ComplaintOwnerChanged', '2016-03-01T01:49:00.000Z'],
      ['SlaBreached', '2016-03-01T09:49:00.000Z'],
      ['SlaBreached', '2016-03-04T01:49:00.000Z'],
      ['ComplaintResponded', '2016-03-15T12:44:00.000Z'],
      ['ComplaintResolved', '2016-03-22T15:14:00.000Z'],
      ['ComplaintClosed', '2016-03-27T15:59:00.000Z'],
    ]);
  });

  it('appends nothing when the same file is imported again', async () => {
    const second = await runImport({ kind: 'incidents', file: SAMPLE, dataDir: dataDir.dir, env: { SQLITE_SYNCHRONOUS: 'NORMAL' } });
    expect(second.eventsAppended).toBe(0);
    expect(second.counts['complaintsAlreadyImported']).toBe(first.counts['complaintsFiled']);
    expect(second.notes['madeSlaAgreement']).toEqual(first.notes['madeSlaAgreement']);
    type Tally = Record<string, { imported: number; alreadyImported: number; refused: number }>;
    const before = first.notes['steps'] as Tally;
    const again = second.notes['steps'] as Tally;
    for (const [kind, counts] of Object.entries(before)) {
      // Found done by the causation id each step left in its event; a refusal is decided (and refused) again.
      expect([kind, again[kind]]).toEqual([kind, { imported: 0, alreadyImported: counts.imported, refused: counts.refused }]);
    }
  }, 240_000);
});
