/**
 * Baseline of the projection-rebuild bench: the least a rebuild must do, i.e. read every event of the log once in
 * order and decode it. One `SELECT … FROM events ORDER BY position` iterated with better-sqlite3 (one row at a time,
 * no paging), `JSON.parse` of data and metadata per row, each row turned into the event object a projection gets.
 * Env: BENCH_EVENTS_DB. Reports events/s and peak RSS (`process.resourceUsage().maxRSS`).
 */
import Database from 'better-sqlite3';
import { maxRssMb, mb, peakRssMb, workerMain } from './worker-main';

export interface RawScanResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
  /** RSS once the modules are loaded, before the scan: what the process costs before doing any work. */
  readonly rssAfterLoadMb: number;
  /** Peak RSS of this process (VmHWM on Linux): what the target is about. */
  readonly peakRssMb: number;
  /** getrusage maxRSS as `process.resourceUsage()` reports it (on Linux: at least the parent's RSS at fork). */
  readonly maxRssMb: number;
  readonly checksum: number;
  readonly cpuSeconds: number;
}

interface Row {
  position: number;
  event_id: string;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

workerMain(async (): Promise<RawScanResult> => {
  const file = process.env.BENCH_EVENTS_DB;
  if (!file) throw new Error('BENCH_EVENTS_DB is required');
  const rssAfterLoadMb = mb(process.memoryUsage().rss);
  const db = new Database(file);
  try {
    const statement = db.prepare<[], Row>('SELECT position, event_id, stream_id, revision, type, data, metadata, recorded_at FROM events ORDER BY position');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let events = 0;
    let checksum = 0;
    let last = 0;
    for (const row of statement.iterate()) {
      const event = {
        eventId: row.event_id,
        type: row.type,
        data: JSON.parse(row.data) as Record<string, unknown>,
        metadata: JSON.parse(row.metadata) as Record<string, unknown>,
        streamId: row.stream_id,
        revision: row.revision,
        position: row.position,
        recordedAt: row.recorded_at,
      };
      if (event.position <= last) throw new Error(`log out of order at ${event.position}`);
      last = event.position;
      events += 1;
      // Touch the decoded data so the work cannot be skipped.
      checksum = (checksum + event.revision + (typeof event.data['customerId'] === 'string' ? 1 : 0) + (event.metadata['schemaVersion'] as number)) % 1_000_000_007;
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      events, seconds: Math.round(seconds * 1000) / 1000, eventsPerSec: Math.round(events / seconds), rssAfterLoadMb, peakRssMb: peakRssMb(), maxRssMb: maxRssMb(),
      checksum, cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    };
  } finally {
    db.close();
  }
});
