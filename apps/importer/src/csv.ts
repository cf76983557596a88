import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

/**
 * RFC 4180 CSV, streamed: a field is quoted when it holds a comma, a quote or a line break, and a quote inside a
 * quoted field is doubled. Records end at LF or CRLF. Fields are never trimmed (the retail descriptions keep their
 * spaces). Bytes after a closing quote other than a separator are an error, not silently kept: a broken file should
 * stop the import with the record number rather than shift every column after it.
 */
export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  constructor(
    message: string,
    /** 1-based record number (the header is record 1). */
    readonly record: number,
  ) {
    super(`CSV record ${record}: ${message}`);
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Incremental parser: push text chunks, get the records completed so far; `end()` flushes the last one. */
export class CsvParser {
  private pending = '';
  private recordsSeen = 0;
  private started = false;

  push(chunk: string): string[][] {
    let text = this.pending + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const { records, consumed } = this.parse(text, false);
    this.pending = text.slice(consumed);
    return records;
  }

  end(): string[][] {
    const { records } = this.parse(this.pending, true);
    this.pending = '';
    return records;
  }

  /** Parses whole records from `text`; with `final` false, an incomplete last record is left unconsumed. */
  private parse(text: string, final: boolean): { records: string[][]; consumed: number } {
    const records: string[][] = [];
    const n = text.length;
    let i = 0;
    let consumed = 0;
    outer: while (i < n) {
      const fields: string[] = [];
      for (;;) {
        if (i < n && text.charCodeAt(i) === QUOTE) {
          let value = '';
          let segmentStart = i + 1;
          let j = segmentStart;
          for (;;) {
            const q = text.indexOf('"', j);
            if (q === -1) {
              if (final) throw new CsvSyntaxError('unterminated quoted field', this.recordsSeen + records.length + 1);
              break outer;
            }
            if (q + 1 >= n && !final) break outer; // cannot tell a closing quote from a doubled one yet
            if (q + 1 < n && text.charCodeAt(q + 1) === QUOTE) {
              value += text.slice(segmentStart, q + 1);
              j = q + 2;
              segmentStart = j;
              continue;
            }
            value += text.slice(segmentStart, q);
            i = q + 1;
            break;
          }
          fields.push(value);
          if (i >= n) {
            // final here: the file ends right after the closing quote.
            records.push(fields);
            consumed = i;
            break outer;
          }
          const c = text.charCodeAt(i);
          if (c === COMMA) {
            i += 1;
            continue;
          }
          const end = this.recordEnd(text, i, final);
          if (end === -1) break outer;
          if (end === -2) {
            throw new CsvSyntaxError(`unexpected ${JSON.stringify(text[i])} after a closing quote`, this.recordsSeen + records.length + 1);
          }
          records.push(fields);
          i = end;
          consumed = i;
          continue outer;
        }
        let j = i;
        let c = 0;
        while (j < n) {
          c = text.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR) break;
          j += 1;
        }
        if (j >= n) {
          if (!final) break outer;
          fields.push(text.slice(i, j));
          records.push(fields);
          i = j;
          consumed = i;
          break outer;
        }
        fields.push(text.slice(i, j));
        if (c === COMMA) {
          i = j + 1;
          continue;
        }
        const end = this.recordEnd(text, j, final);
        if (end === -1) break outer;
        records.push(fields);
        i = end;
        consumed = i;
        continue outer;
      }
    }
    this.recordsSeen += records.length;
    return { records: records.filter((r) => !(r.length === 1 && r[0] === '')), consumed };
  }

  /** Index after the line break at `at`; -1 when more input is needed (CR at the chunk end); -2 when none is there. */
  private recordEnd(text: string, at: number, final: boolean): number {
    const c = text.charCodeAt(at);
    if (c === LF) return at + 1;
    if (c !== CR) return -2;
    if (at + 1 >= text.length) return final ? at + 1 : -1;
    return text.charCodeAt(at + 1) === LF ? at + 2 : at + 1;
  }
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Reads a CSV file (plain, or gzip recognised by its magic bytes whatever its name) and yields its records in
 * batches, one batch per chunk read, so the consumer's awaits pause the file (bounded memory). `onBytes` reports the
 * bytes of the file itself (compressed bytes for gzip), for a progress bar against the file size.
 */
export async function* readCsvRecords(file: string, onBytes?: (bytesRead: number) => void): AsyncGenerator<string[][]> {
  const gzip = await isGzip(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const text = gzip ? raw.pipe(createGunzip({ chunkSize: 1 << 16 })) : raw;
  text.setEncoding('utf8');
  const parser = new CsvParser();
  try {
    for await (const chunk of text as AsyncIterable<string>) {
      onBytes?.(raw.bytesRead);
      const records = parser.push(chunk);
      if (records.length > 0) yield records;
    }
    const last = parser.end();
    if (last.length > 0) yield last;
  } finally {
    raw.destroy();
  }
}

/** One CSV field as RFC 4180 writes it: quoted only when it must be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\n`;
}
