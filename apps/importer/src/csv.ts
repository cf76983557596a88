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

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over the UTF-16 code units of `value` from `start` to `end`: the hash CsvRecord.hash gives a field with this value. */
export function textHash(value: string, start = 0, end = value.length): number {
  let h = FNV_OFFSET;
  for (let k = start; k < end; k += 1) h = Math.imul(h ^ value.charCodeAt(k), FNV_PRIME);
  return h >>> 0;
}

/**
 * One record of a scan, valid only inside the callback that receives it (the next record reuses it): the fields are
 * offsets into the chunk's text, and a field becomes a string only when asked for. The online-retail file has
 * 541,909 records of 8 fields and the importer needs a string for few of them (most values repeat the previous row's
 * or one already kept): building a `string[]` per record was most of its read phase's allocations.
 */
export class CsvRecord {
  /** Number of fields. */
  count = 0;
  /** 1-based record number in the file (the header is record 1). */
  number = 0;
  /** @internal */ text = '';
  /** @internal */ starts = new Int32Array(16);
  /** @internal */ ends = new Int32Array(16);
  /** @internal 1: quoted; 2: quoted with doubled quotes inside. */ quoting = new Uint8Array(16);

  /** The field's value (quotes removed, doubled quotes made single); '' past the last field. */
  field(i: number): string {
    if (i >= this.count) return '';
    const value = this.text.slice(this.starts[i], this.ends[i]);
    return this.quoting[i] === 2 ? value.replace(/""/g, '"') : value;
  }

  /** Length of the raw field (before doubled quotes are made single). */
  rawLength(i: number): number {
    return i < this.count ? this.ends[i]! - this.starts[i]! : 0;
  }

  /** Whether the field's value is `value`, without making a string of it. */
  equals(i: number, value: string): boolean {
    if (i >= this.count) return value === '';
    if (this.quoting[i] === 2) return this.field(i) === value;
    const start = this.starts[i]!;
    return this.ends[i]! - start === value.length && this.text.startsWith(value, start);
  }

  /** The UTF-16 code unit at `k` of the raw field, NaN past its end. */
  charCodeAt(i: number, k: number): number {
    if (i >= this.count) return Number.NaN;
    const at = this.starts[i]! + k;
    return at < this.ends[i]! ? this.text.charCodeAt(at) : Number.NaN;
  }

  /** FNV-1a of the field's value (as textHash of field(i)), without making a string of it when it can. */
  hash(i: number): number {
    if (i >= this.count) return textHash('');
    if (this.quoting[i] === 2) return textHash(this.field(i));
    return textHash(this.text, this.starts[i], this.ends[i]);
  }

  /** Every field as a string (the record as the array-based parser returns it). */
  fields(): string[] {
    const fields: string[] = new Array<string>(this.count);
    for (let i = 0; i < this.count; i += 1) fields[i] = this.field(i);
    return fields;
  }

  /** @internal */
  add(start: number, end: number, quoting: number): void {
    if (this.count === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts, (n) => new Int32Array(n));
      this.ends = grow(this.ends, (n) => new Int32Array(n));
      this.quoting = grow(this.quoting, (n) => new Uint8Array(n));
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.quoting[this.count] = quoting;
    this.count += 1;
  }
}

/**
 * Incremental parser: push text chunks, get the records completed so far; `end()` flushes the last one. `scan` and
 * `finish` do the same through a callback and a reused CsvRecord, for readers that want only some fields.
 * Empty lines are not records.
 */
export class CsvParser {
  private pending = '';
  private recordsSeen = 0;
  private started = false;
  private readonly record = new CsvRecord();

  push(chunk: string): string[][] {
    const records: string[][] = [];
    this.scan(chunk, (r) => records.push(r.fields()));
    return records;
  }

  end(): string[][] {
    const records: string[][] = [];
    this.finish((r) => records.push(r.fields()));
    return records;
  }

  scan(chunk: string, onRecord: (record: CsvRecord) => void): void {
    let text = this.pending + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const consumed = this.parse(text, false, onRecord);
    this.pending = text.slice(consumed);
  }

  finish(onRecord: (record: CsvRecord) => void): void {
    this.parse(this.pending, true, onRecord);
    this.pending = '';
  }

  /** Parses whole records from `text`; with `final` false, an incomplete last record is left unconsumed. */
  private parse(text: string, final: boolean, onRecord: (record: CsvRecord) => void): number {
    const record = this.record;
    record.text = text;
    const n = text.length;
    let i = 0;
    let consumed = 0;
    const emit = (): void => {
      this.recordsSeen += 1;
      if (record.count === 1 && record.ends[0] === record.starts[0]) return;
      record.number = this.recordsSeen;
      onRecord(record);
    };
    outer: while (i < n) {
      record.count = 0;
      for (;;) {
        if (i < n && text.charCodeAt(i) === QUOTE) {
          const valueStart = i + 1;
          let j = valueStart;
          let quoting = 1;
          for (;;) {
            const q = text.indexOf('"', j);
            if (q === -1) {
              if (final) throw new CsvSyntaxError('unterminated quoted field', this.recordsSeen + 1);
              break outer;
            }
            if (q + 1 >= n && !final) break outer; // cannot tell a closing quote from a doubled one yet
            if (q + 1 < n && text.charCodeAt(q + 1) === QUOTE) {
              quoting = 2;
              j = q + 2;
              continue;
            }
            record.add(valueStart, q, quoting);
            i = q + 1;
            break;
          }
          if (i >= n) {
            // final here: the file ends right after the closing quote.
            emit();
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
            throw new CsvSyntaxError(`unexpected ${JSON.stringify(text[i])} after a closing quote`, this.recordsSeen + 1);
          }
          emit();
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
          record.add(i, j, 0);
          emit();
          i = j;
          consumed = i;
          break outer;
        }
        record.add(i, j, 0);
        if (c === COMMA) {
          i = j + 1;
          continue;
        }
        const end = this.recordEnd(text, j, final);
        if (end === -1) break outer;
        emit();
        i = end;
        consumed = i;
        continue outer;
      }
    }
    record.text = '';
    return consumed;
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

/** The file's text in chunks (plain, or gzip recognised by its magic bytes whatever its name). */
async function* textChunks(file: string, onBytes?: (bytesRead: number) => void): AsyncGenerator<string> {
  const gzip = await isGzip(file);
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const text = gzip ? raw.pipe(createGunzip({ chunkSize: 1 << 16 })) : raw;
  text.setEncoding('utf8');
  try {
    for await (const chunk of text as AsyncIterable<string>) {
      onBytes?.(raw.bytesRead);
      yield chunk;
    }
  } finally {
    raw.destroy();
  }
}

/**
 * Reads a CSV file (plain, or gzip recognised by its magic bytes whatever its name) and yields its records in
 * batches, one batch per chunk read, so the consumer's awaits pause the file (bounded memory). `onBytes` reports the
 * bytes of the file itself (compressed bytes for gzip), for a progress bar against the file size.
 */
export async function* readCsvRecords(file: string, onBytes?: (bytesRead: number) => void): AsyncGenerator<string[][]> {
  const parser = new CsvParser();
  for await (const chunk of textChunks(file, onBytes)) {
    const records = parser.push(chunk);
    if (records.length > 0) yield records;
  }
  const last = parser.end();
  if (last.length > 0) yield last;
}

/**
 * Like readCsvRecords, but each record goes to `onRecord` as a CsvRecord (valid during the call only), so a reader
 * makes strings of the fields it keeps and no others.
 */
export async function scanCsvRecords(file: string, onRecord: (record: CsvRecord) => void, onBytes?: (bytesRead: number) => void): Promise<void> {
  const parser = new CsvParser();
  for await (const chunk of textChunks(file, onBytes)) parser.scan(chunk, onRecord);
  parser.finish(onRecord);
}

/** One CSV field as RFC 4180 writes it: quoted only when it must be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\n`;
}
