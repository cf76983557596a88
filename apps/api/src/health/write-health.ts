import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { storageFaultOf } from '@crm/event-store';

export const WRITE_HEALTH = Symbol('WriteHealth');

/** What readiness says about writes: `ok`, or since when they fail (the disk is full, or the probe cannot write). */
export type WriteCheck =
  | { status: 'ok' }
  | { status: 'full' | 'failing'; writesFailingSince: string; detail: string };

/** Bigger than a typical commit (a few pages), so a disk with just enough room for the probe is not called healthy. */
const PROBE_BYTES = 64 * 1024;

/**
 * Writes and removes a file in DATA_DIR (where keys.db and, embedded, every SQLite file live), synced: the one write
 * readiness makes itself. A full disk fails it with ENOSPC; once space is back it succeeds without a client write.
 */
export function dataDirWriteProbe(dataDir: string): () => Promise<void> {
  let seq = 0;
  return async () => {
    const file = join(dataDir, `.write-probe-${process.pid}-${(seq += 1)}`);
    try {
      const handle = await open(file, 'w', 0o600);
      try {
        await handle.write(randomBytes(PROBE_BYTES));
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } finally {
      await unlink(file).catch(() => undefined);
    }
  };
}

/**
 * Whether writes are failing, as the API sees them: a request that failed on a full or failing disk marks it (with
 * the time of the first such failure), the next write that succeeds (a command answered 2xx, or readiness's own probe
 * write) clears it. Readiness probes on every call, so it also sees a full disk before any client tried to write.
 */
export class WriteHealth {
  private failingSince: Date | undefined;
  private lastDetail = '';
  private lastStatus: 'full' | 'failing' = 'full';

  constructor(private readonly probe: () => Promise<void>, private readonly now: () => Date = () => new Date()) {}

  /** A request failed: counts when the cause is the disk (full or failing), not a bad request or a lock timeout. */
  failed(error: unknown): void {
    if (storageFaultOf(error) !== 'disk') return;
    this.mark('full', error);
  }

  succeeded(): void {
    this.failingSince = undefined;
  }

  async check(): Promise<WriteCheck> {
    try {
      await this.probe();
      this.succeeded();
      return { status: 'ok' };
    } catch (error) {
      this.mark(storageFaultOf(error) === 'disk' ? 'full' : 'failing', error);
    }
    return { status: this.lastStatus, writesFailingSince: (this.failingSince ?? this.now()).toISOString(), detail: this.lastDetail };
  }

  private mark(status: 'full' | 'failing', error: unknown): void {
    this.failingSince ??= this.now();
    this.lastStatus = status;
    // A code, never a path or a stack: readiness is public.
    const code = codeOf(error);
    this.lastDetail = status === 'full' ? `writes fail: the disk is full or failing${typeof code === 'string' ? ` (${code})` : ''}` : `the write probe failed${typeof code === 'string' ? ` (${code})` : ''}`;
  }
}

function codeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
