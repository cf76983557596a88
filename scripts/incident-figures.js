#!/usr/bin/env node
// Figures of a ServiceNow incident event log computed straight from the CSV, to check the importer against
// (issue 16, item 8). Deliberately shares no code with apps/importer: its own CSV reader, its own date parser, its
// own grouping; plain Node, no TypeScript, no dependencies. The rules it applies are the source's, stated once here:
//
//   - an incident is all the rows with one `number` (the file keeps them adjacent);
//   - incidents whose `caller_id` is `?` are left out (a complaint needs a customer; docs/import.md);
//   - priority: `N - Label` → PN; "at last priority" is the incident's last row in file order, "at filing" its first;
//   - hours to resolve: wall-clock (`resolved_at` − `opened_at`) / 1 h, both read as UTC (`D/M/YYYY HH:MM`, day
//     first); an incident with `resolved_at` = `?` is not resolved; the median of an even count is the mean of the
//     two middle values; medians rounded to 2 decimals, as GET /analytics/sla rounds them.
//
// It also counts the source facts the importer maps (priority changes, "Awaiting …" rows and episodes,
// reassignments, reopens), so the claims about the data can be checked.
//
// Usage: node scripts/incident-figures.js <incident_event_log.csv[.gz]> [--json]
'use strict';
const { readFileSync } = require('node:fs');
const { gunzipSync } = require('node:zlib');

function parseCsv(text) {
  const records = [];
  let record = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { record.push(field); field = ''; }
    else if (c === '\n') { record.push(field); records.push(record); record = []; field = ''; }
    else if (c !== '\r') field += c;
  }
  if (field !== '' || record.length > 0) { record.push(field); records.push(record); }
  return records;
}

function utcMs(text) {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})$/.exec(text);
  return m ? Date.UTC(+m[3], +m[2] - 1, +m[1], +m[4], +m[5]) : null;
}

const priorityOf = (text) => (/^[1-4] - /.test(text) ? `P${text[0]}` : null);

function median(values) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const m = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return Math.round(m * 100) / 100;
}

function figures(file) {
  const bytes = readFileSync(file);
  // gzip by its magic bytes, whatever the name (the full log is stored gzipped).
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  const [header, ...data] = parseCsv(text);
  const col = (name) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: no column ${name}`);
    return i;
  };
  const C = Object.fromEntries(['number', 'incident_state', 'caller_id', 'opened_at', 'priority', 'assigned_to', 'resolved_at', 'reopen_count']
    .map((name) => [name, col(name)]));

  const incidents = [];
  for (const row of data) {
    const last = incidents[incidents.length - 1];
    if (last && last[0][C.number] === row[C.number]) last.push(row);
    else incidents.push([row]);
  }

  const empty = () => ({ complaints: 0, resolved: 0, hours: [] });
  const atLast = { P1: empty(), P2: empty(), P3: empty(), P4: empty() };
  const atFiling = { P1: empty(), P2: empty(), P3: empty(), P4: empty() };
  const facts = {
    rows: data.length, incidents: incidents.length, incidentsWithoutCaller: 0, rowsByState: {},
    incidentsChangingPriority: 0, priorityChanges: 0,
    awaitingRows: {}, awaitingEpisodes: 0, incidentsAwaiting: 0,
    incidentsAssigned: 0, reassignments: 0, incidentsReassigned: 0, unassignments: 0,
    reopens: 0, incidentsReopened: 0, incidentsWithReopenCount: 0,
  };
  const bump = (o, k, by = 1) => { o[k] = (o[k] || 0) + by; };

  for (const rows of incidents) {
    for (const r of rows) {
      bump(facts.rowsByState, r[C.incident_state]);
      if (r[C.incident_state].startsWith('Awaiting')) bump(facts.awaitingRows, r[C.incident_state]);
    }
    let changes = 0;
    let owner = '?';
    let reassignments = 0;
    let episodes = 0;
    let reopens = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const prev = rows[i - 1];
      if (prev && r[C.priority] !== prev[C.priority]) changes += 1;
      const assignee = r[C.assigned_to];
      if (prev && prev[C.assigned_to] !== '?' && assignee === '?') facts.unassignments += 1;
      if (assignee !== '?' && assignee !== owner) {
        if (owner !== '?') reassignments += 1;
        owner = assignee;
      }
      const state = r[C.incident_state];
      const before = prev ? prev[C.incident_state] : '';
      if (state.startsWith('Awaiting') && !before.startsWith('Awaiting')) episodes += 1;
      // ServiceNow lets work resume after Resolved and even after Closed (the incident is reopened either way).
      const done = (x) => x === 'Resolved' || x === 'Closed';
      if (done(before) && !done(state)) reopens += 1;
    }
    if (changes > 0) { facts.incidentsChangingPriority += 1; facts.priorityChanges += changes; }
    if (owner !== '?') facts.incidentsAssigned += 1;
    if (reassignments > 0) { facts.incidentsReassigned += 1; facts.reassignments += reassignments; }
    if (episodes > 0) { facts.incidentsAwaiting += 1; facts.awaitingEpisodes += episodes; }
    if (reopens > 0) { facts.incidentsReopened += 1; facts.reopens += reopens; }
    if (rows.some((r) => r[C.reopen_count] !== '0')) facts.incidentsWithReopenCount += 1;

    const first = rows[0];
    if (first[C.caller_id] === '?') { facts.incidentsWithoutCaller += 1; continue; }
    const opened = utcMs(first[C.opened_at]);
    const resolved = utcMs(first[C.resolved_at]);
    const last = priorityOf(rows[rows.length - 1][C.priority]);
    const filed = priorityOf(first[C.priority]);
    for (const [book, p] of [[atLast, last], [atFiling, filed]]) {
      if (!p || opened === null) continue;
      book[p].complaints += 1;
      if (resolved !== null) { book[p].resolved += 1; book[p].hours.push((resolved - opened) / 3_600_000); }
    }
  }

  const summarise = (book) => Object.fromEntries(Object.entries(book).map(([p, v]) => [p, { complaints: v.complaints, resolved: v.resolved, medianHoursToResolve: median(v.hours) }]));
  const all = (book) => Object.values(book).flatMap((v) => v.hours);
  return {
    file,
    perPriority: summarise(atLast),
    perPriorityAtFiling: summarise(atFiling),
    total: {
      complaints: Object.values(atLast).reduce((s, v) => s + v.complaints, 0),
      resolved: Object.values(atLast).reduce((s, v) => s + v.resolved, 0),
      medianHoursToResolve: median(all(atLast)),
    },
    facts,
  };
}

function main() {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: node scripts/incident-figures.js <incident_event_log.csv> [--json]\n');
    process.exit(2);
  }
  const result = figures(file);
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines = [`${result.file}`, 'per priority (at each incident\'s last recorded priority; at filing in brackets):'];
  for (const p of ['P1', 'P2', 'P3', 'P4']) {
    const a = result.perPriority[p];
    const f = result.perPriorityAtFiling[p];
    lines.push(`  ${p}  complaints ${a.complaints} (${f.complaints})  resolved ${a.resolved} (${f.resolved})  median hours to resolve ${a.medianHoursToResolve} (${f.medianHoursToResolve})`);
  }
  lines.push(`  all complaints ${result.total.complaints}  resolved ${result.total.resolved}  median ${result.total.medianHoursToResolve}`);
  lines.push('source facts:');
  for (const [k, v] of Object.entries(result.facts)) lines.push(`  ${k.padEnd(26)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) main();
module.exports = { figures };
