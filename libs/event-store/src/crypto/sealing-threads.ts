import { Worker } from 'node:worker_threads';
import { sealingWorkerSource, type SealingAnswer, type SealingRequest } from './field-sealer';

/** The values of one event's personal fields, to be sealed with its subject's key. */
export interface SealingJob {
  readonly subject: string;
  readonly key: Buffer;
  readonly values: readonly unknown[];
}

interface Pending {
  readonly jobs: SealingJob[];
  readonly resolve: (sealed: string[][]) => void;
  readonly reject: (error: unknown) => void;
}

interface Answer {
  readonly part: Pending[];
  readonly worker: SealingWorker;
  done?: { readonly sealed: string[][] } | { readonly error: unknown };
}

interface SealingWorker {
  readonly worker: Worker;
  readonly waiting: Map<number, Pending>;
}

/**
 * AES-GCM sealing of personal fields on worker threads, for bulk writers (the importer): the full online-retail file
 * seals ~400k order-line descriptions, one `createCipheriv` each (~5–10 µs here), ~16 % of the import on the event
 * loop. Here the event loop only walks the fields; the ciphers run beside it on the other cores.
 *
 * Jobs asked for in one turn of the event loop go out together, split over the threads, in one message each (a
 * message per value would cost more than the cipher). Answers settle in the order the jobs were asked for, whichever
 * thread is faster, so the appends waiting on them reach the store in the order they were made. A job a thread
 * cannot seal fails its appends (nothing is written); a thread that dies is not used again, and with no thread
 * left `seal` rejects.
 */
export class SealingThreads {
  private readonly workers: SealingWorker[] = [];
  private queue: Pending[] = [];
  private flushScheduled = false;
  private nextId = 0;
  private closed = false;
  /** Batches sent and not yet settled, oldest first: one answer per thread that got a part. */
  private readonly groups: Answer[][] = [];

  constructor(readonly threads: number) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`sealing threads must be a positive integer, got ${threads}`);
    for (let i = 0; i < threads; i += 1) this.workers.push(this.start());
  }

  private start(): SealingWorker {
    // The store's own sealer (field-sealer.ts) from its source text: the same envelope, whether the process runs
    // the sources (ts-node, ts-jest) or the build.
    const worker = new Worker(sealingWorkerSource(), {
      eval: true,
      // Not the process's flags: under ts-node they would load the TypeScript compiler into the thread (~50 MB).
      execArgv: [],
      // Batches are a few MB of short strings at most. (V8's --max-semi-space-size, when given, is process-wide and wins.)
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
    });
    worker.unref();
    const entry: SealingWorker = { worker, waiting: new Map() };
    worker.on('message', (message: SealingAnswer) => {
      const pending = entry.waiting.get(message.id);
      entry.waiting.delete(message.id);
      if (entry.waiting.size === 0) worker.unref();
      if (!pending) return;
      if ('sealed' in message) pending.resolve(message.sealed);
      else pending.reject(new Error(`sealing thread failed: ${message.error}`));
    });
    const fail = (error: unknown): void => {
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers.splice(index, 1);
      for (const pending of entry.waiting.values()) pending.reject(error);
      entry.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`sealing thread exited (${code})`)));
    return entry;
  }

  /** The sealed values of each job, in order. */
  seal(jobs: SealingJob[]): Promise<string[][]> {
    if (this.closed) return Promise.reject(new Error('sealing threads are closed'));
    if (jobs.length === 0) return Promise.resolve([]);
    return new Promise<string[][]>((resolve, reject) => {
      this.queue.push({ jobs, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = [];
    if (queue.length === 0) return;
    if (this.workers.length === 0) {
      const error = new Error('no sealing thread is running');
      for (const p of queue) p.reject(error);
      return;
    }
    // Contiguous shares, one per thread, by number of values (an order has 1–500 lines).
    const total = queue.reduce((n, p) => n + p.jobs.reduce((m, j) => m + j.values.length, 0), 0);
    const share = Math.ceil(total / this.workers.length);
    let at = 0;
    const group: Answer[] = [];
    for (const w of this.workers) {
      const part: Pending[] = [];
      let values = 0;
      while (at < queue.length && (values < share || w === this.workers[this.workers.length - 1])) {
        const p = queue[at++]!;
        part.push(p);
        values += p.jobs.reduce((m, j) => m + j.values.length, 0);
      }
      if (part.length > 0) group.push({ part, worker: w });
    }
    this.groups.push(group);
    for (const answer of group) {
      this.send(answer.worker, answer.part).then(
        (sealed) => {
          answer.done = { sealed };
          this.settleInOrder();
        },
        (error: unknown) => {
          answer.done = { error };
          this.settleInOrder();
        },
      );
    }
  }

  /**
   * Settles the oldest batches whose every part is answered, in the order they were asked for, whichever thread was
   * faster: the appends waiting on them then reach the store in the order they were made, as when sealing on the
   * event loop. All parts of a batch settle in one loop, so their appends resume in order.
   */
  private settleInOrder(): void {
    while (this.groups.length > 0 && this.groups[0]!.every((a) => a.done !== undefined)) {
      for (const { part, done } of this.groups.shift()!) {
        if (!done || 'error' in done) {
          for (const p of part) p.reject(done?.error);
          continue;
        }
        let k = 0;
        for (const p of part) p.resolve(p.jobs.map(() => done.sealed[k++] ?? []));
      }
    }
  }

  private send(w: SealingWorker, part: Pending[]): Promise<string[][]> {
    const keys = new Map<string, Uint8Array>();
    const jobs: Array<{ subject: string; values: readonly unknown[] }> = [];
    for (const p of part) {
      for (const j of p.jobs) {
        keys.set(j.subject, j.key);
        jobs.push({ subject: j.subject, values: j.values });
      }
    }
    const id = this.nextId++;
    // Held while an answer is owed (an import whose only pending work is a seal must not exit), released when idle.
    if (w.waiting.size === 0) w.worker.ref();
    return new Promise<string[][]>((resolve, reject) => {
      w.waiting.set(id, { jobs: [], resolve, reject });
      const request: SealingRequest = { id, keys, jobs };
      w.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    const workers = [...this.workers];
    // Answers still owed are waited for: an append sealed here is written before its store closes.
    await Promise.all(workers.map((w) => (w.waiting.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const check = (): void => {
        if (w.waiting.size === 0) resolve();
      };
      w.worker.on('message', () => setImmediate(check));
      w.worker.once('exit', () => resolve());
    }))));
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
