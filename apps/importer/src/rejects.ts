import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { csvLine } from './csv';

/**
 * The rejected rows of one import, as CSV: `source_row` (1-based data row, header excluded), `reason`, then the
 * source columns unchanged, so a rejected row can be fixed and imported again. Created on the first reject only.
 * Writes are buffered and flushed in blocks: the retail file alone rejects 135k rows without a customer id.
 */
export class RejectsFile {
  private fd: number | undefined;
  private buffer: string[] = [];
  private bufferedChars = 0;
  count = 0;

  private header: readonly string[] = [];

  constructor(readonly path: string) {}

  /** The source file's header, repeated after `source_row,reason`. */
  setHeader(header: readonly string[]): void {
    this.header = header;
  }

  add(sourceRow: number, reason: string, fields: readonly string[]): void {
    this.count += 1;
    const line = csvLine([String(sourceRow), reason, ...fields]);
    this.buffer.push(line);
    this.bufferedChars += line.length;
    if (this.bufferedChars > 1 << 20) this.flush();
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    if (this.fd === undefined) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.fd = openSync(this.path, 'w');
      writeSync(this.fd, csvLine(['source_row', 'reason', ...this.header]));
    }
    writeSync(this.fd, this.buffer.join(''));
    this.buffer = [];
    this.bufferedChars = 0;
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
