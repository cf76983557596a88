/** What an import did: printed as a table and as one `IMPORT_SUMMARY {json}` line on stdout. */
export interface ImportSummary {
  readonly kind: string;
  readonly file: string;
  /** Data rows read (the header excluded). */
  readonly rows: number;
  readonly elapsedMs: number;
  readonly rowsPerSecond: number;
  /** What was imported (or found already imported), by category. */
  readonly counts: Readonly<Record<string, number>>;
  /** Skipped source rows by reason. */
  readonly skipped: Readonly<Record<string, number>>;
  /** Source-specific figures that are not counts (ratios, …). */
  readonly notes: Readonly<Record<string, unknown>>;
  readonly eventsAppended: number;
  readonly rejectedRows: number;
  /** The rejects CSV, or null when nothing was rejected. */
  readonly rejectsFile: string | null;
  /** Peak resident set size of this process so far. */
  readonly peakRssMb: number;
}

/** Counters by name, kept in insertion order so the summary reads in the order things happen. */
export class Tally {
  private readonly values = new Map<string, number>();

  add(name: string, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const v of this.values.values()) sum += v;
    return sum;
  }

  toObject(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}

export function peakRssMb(): number {
  // resourceUsage().maxRSS is in kilobytes.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

const n = (value: number): string => value.toLocaleString('en-GB');

const isCountRecord = (v: unknown): v is Record<string, number> =>
  typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'number');

/** A note that is a table (`{ row: { column: count } }`, e.g. steps by kind) reads better as one line per row. */
function noteLines(key: string, value: unknown): string[] {
  if (typeof value === 'object' && value !== null && Object.keys(value).length > 0 && Object.values(value).every(isCountRecord)) {
    return [`    ${key}:`, ...Object.entries(value as Record<string, Record<string, number>>).map(([row, counts]) =>
      `      ${row.padEnd(30)} ${Object.entries(counts).map(([c, v]) => `${c} ${n(v)}`).join(', ')}`)];
  }
  return [`    ${key.padEnd(32)} ${typeof value === 'number' ? n(value) : JSON.stringify(value)}`];
}

export function formatSummary(s: ImportSummary): string {
  const lines = [
    `import ${s.kind} ${s.file}`,
    `  rows read          ${n(s.rows)} in ${(s.elapsedMs / 1000).toFixed(1)} s (${n(s.rowsPerSecond)} rows/s), peak RSS ${s.peakRssMb} MB`,
    `  events appended    ${n(s.eventsAppended)}`,
    '  imported:',
    ...Object.entries(s.counts).map(([k, v]) => `    ${k.padEnd(32)} ${n(v)}`),
    '  skipped rows by reason:',
    ...(Object.keys(s.skipped).length === 0 ? ['    (none)'] : Object.entries(s.skipped).map(([k, v]) => `    ${k.padEnd(32)} ${n(v)}`)),
    ...(Object.keys(s.notes).length === 0 ? [] : ['  notes:', ...Object.entries(s.notes).flatMap(([k, v]) => noteLines(k, v))]),
    `  rejected rows      ${n(s.rejectedRows)}${s.rejectsFile ? ` → ${s.rejectsFile}` : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}
