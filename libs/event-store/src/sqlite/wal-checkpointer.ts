import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** The worker: its own connection to the file, one PASSIVE checkpoint per request, closed on request. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL'); // a checkpoint syncs the WAL before and the database file after
parentPort.on('message', (message) => {
  if (message === 'checkpoint') {
    try {
      let [result] = db.pragma('wal_checkpoint(PASSIVE)');
      // Writers that never pause leave the WAL never wholly copied, so it is never restarted and grows: past the
      // bound, a TRUNCATE checkpoint waits (busy_timeout) for the writer between two commits, copies the rest and
      // empties the file. Writers wait for it meanwhile.
      if (workerData.truncateAboveFrames > 0 && result.log > workerData.truncateAboveFrames) {
        [result] = db.pragma('wal_checkpoint(TRUNCATE)');
      }
      parentPort.postMessage({ type: 'checkpointed', result });
    } catch (error) {
      parentPort.postMessage({ type: 'failed', error: String(error) });
    }
  } else if (message === 'close') {
    db.close();
    parentPort.close();
  }
});
`;

export interface WalCheckpointerOptions {
  /** How often a checkpoint runs when the owner committed since the last one (default 250 ms). */
  readonly intervalMs?: number;
  /**
   * WAL frames past which a checkpoint also empties the file (TRUNCATE, which waits for a moment without writers);
   * unset: PASSIVE only, which never waits.
   */
  readonly truncateAboveFrames?: number;
}

/**
 * Checkpoints a WAL database from a worker thread. SQLite's automatic checkpoint runs inside the commit that crosses
 * 1,000 WAL pages: it copies them into the database file and fsyncs it, on the event loop, every few seconds under
 * load. The owner switches that off (`wal_autocheckpoint = 0`) and reports commits here; every `intervalMs` with
 * commits since the last one, this runs `wal_checkpoint(PASSIVE)` on its own connection, which never blocks the
 * writer. If the worker fails, `onFailure` is called once (the owner turns automatic checkpoints back on).
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;
  private readonly exited: Promise<void>;
  private inFlight = false;
  private dirty = false;
  private failed = false;

  /**
   * Takes the checkpoints of `db`'s file over from SQLite's automatic ones of this connection (`wal_autocheckpoint = 0`),
   * and gives them back (1,000 pages, SQLite's default) if the worker fails: what both SQLite stores do.
   */
  static forConnection(db: Database.Database, options: WalCheckpointerOptions = {}): WalCheckpointer {
    db.pragma('wal_autocheckpoint = 0');
    return new WalCheckpointer(db.name, () => {
      // Without the worker, SQLite checkpoints in commits again.
      if (db.open) db.pragma('wal_autocheckpoint = 1000');
    }, options);
  }

  constructor(file: string, private readonly onFailure: (error: unknown) => void, options: WalCheckpointerOptions = {}) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver: require.resolve('better-sqlite3'), truncateAboveFrames: options.truncateAboveFrames ?? 0 },
      // It runs one pragma at a time: a small heap keeps the thread from costing the process tens of MB.
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
      // Not the parent's flags: a `-r ts-node/register` (benches, scripts) loaded the compiler into this heap, the
      // thread died at start and the store silently went back to checkpointing inside commits on the event loop.
      execArgv: [],
    });
    this.worker.unref();
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (message: { type: 'checkpointed' } | { type: 'failed'; error: string }) => {
      this.inFlight = false;
      if (message.type === 'failed') this.fail(new Error(message.error));
    });
    this.worker.on('error', (error) => this.fail(error));
    this.timer = setInterval(() => this.tick(), options.intervalMs ?? 250);
    this.timer.unref();
  }

  /** The owner committed: there are WAL pages to copy back. */
  committed(): void {
    this.dirty = true;
  }

  private tick(): void {
    if (!this.dirty || this.inFlight || this.failed) return;
    this.dirty = false;
    this.inFlight = true;
    this.worker.postMessage('checkpoint');
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    clearInterval(this.timer);
    this.onFailure(error);
  }

  /** Lets a running checkpoint finish, closes the worker's connection, ends the thread (killed after 5 s). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    // Unreferenced, the thread would not keep the process alive while it closes: a script awaiting close() would end.
    this.worker.ref();
    this.worker.postMessage('close');
    const timeout = setTimeout(() => void this.worker.terminate(), 5000);
    timeout.unref();
    await this.exited;
    clearTimeout(timeout);
  }
}
