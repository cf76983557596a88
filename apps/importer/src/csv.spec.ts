import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CsvParser, CsvSyntaxError, csvLine, readCsvRecords, textHash, type CsvRecord } from './csv';

function parseAll(text: string, chunkSize = text.length || 1): string[][] {
  const parser = new CsvParser();
  const records: string[][] = [];
  for (let i = 0; i < text.length; i += chunkSize) records.push(...parser.push(text.slice(i, i + chunkSize)));
  records.push(...parser.end());
  return records;
}

const TRICKY = [
  'InvoiceNo,StockCode,Description,Quantity',
  '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6',
  '536366,22633,"HAND WARMER, UNION JACK",6',
  '536367,84879,"say ""hello"" ",32',
  '536368,22960,"two\nlines, and ""quotes""",1',
  '536369,,  spaces kept  ,',
  '"",x,"",""',
].join('\n');

const EXPECTED = [
  ['InvoiceNo', 'StockCode', 'Description', 'Quantity'],
  ['536365', '85123A', 'WHITE HANGING HEART T-LIGHT HOLDER', '6'],
  ['536366', '22633', 'HAND WARMER, UNION JACK', '6'],
  ['536367', '84879', 'say "hello" ', '32'],
  ['536368', '22960', 'two\nlines, and "quotes"', '1'],
  ['536369', '', '  spaces kept  ', ''],
  ['', 'x', '', ''],
];

describe('CsvParser (RFC 4180)', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and keeps spaces', () => {
    expect(parseAll(TRICKY)).toEqual(EXPECTED);
  });

  it('gives the same records whatever the chunk boundaries (every split of the text)', () => {
    for (let size = 1; size <= 12; size++) expect(parseAll(TRICKY, size)).toEqual(EXPECTED);
    for (let cut = 1; cut < TRICKY.length; cut++) {
      const parser = new CsvParser();
      const records = [...parser.push(TRICKY.slice(0, cut)), ...parser.push(TRICKY.slice(cut)), ...parser.end()];
      expect(records).toEqual(EXPECTED);
    }
  });

  it('accepts CRLF line ends and a trailing line break, and drops a byte-order mark', () => {
    expect(parseAll('\uFEFFa,b\r\n"c\r\nd",e\r\n', 3)).toEqual([['a', 'b'], ['c\r\nd', 'e']]);
  });

  it('skips blank lines', () => {
    expect(parseAll('a,b\n\nc,d\n')).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('refuses an unterminated quote and text after a closing quote, naming the record', () => {
    expect(() => parseAll('a,b\n"open,c\n')).toThrow(CsvSyntaxError);
    expect(() => parseAll('a,b\n"x"y,c\n')).toThrow('CSV record 2');
  });

  it('writes fields back so that they read the same', () => {
    const line = csvLine(['plain', 'with, comma', 'with "quote"', 'two\nlines', '']);
    expect(line).toBe('plain,"with, comma","with ""quote""","two\nlines",\n');
    expect(parseAll(line)).toEqual([['plain', 'with, comma', 'with "quote"', 'two\nlines', '']]);
  });
});

describe('CsvParser.scan (fields read lazily from a reused record)', () => {
  const scanAll = (text: string, chunkSize: number, onRecord: (r: CsvRecord) => void): void => {
    const parser = new CsvParser();
    for (let i = 0; i < text.length; i += chunkSize) parser.scan(text.slice(i, i + chunkSize), onRecord);
    parser.finish(onRecord);
  };

  it('gives the fields push gives, whatever the chunk boundaries, with their record numbers', () => {
    for (const size of [1, 2, 5, 7, TRICKY.length]) {
      const seen: Array<{ n: number; fields: string[] }> = [];
      scanAll(TRICKY, size, (r) => seen.push({ n: r.number, fields: r.fields() }));
      expect(seen.map((s) => s.fields)).toEqual(EXPECTED);
      expect(seen.map((s) => s.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
    const numbers: number[] = [];
    scanAll('a,b\n\nc,d\n', 3, (r) => numbers.push(r.number));
    expect(numbers).toEqual([1, 3]); // a blank line is no record, but it is a line of the file
  });

  it('compares, hashes and measures a field as its value, quoted or not, without a string of it', () => {
    const checked: string[] = [];
    scanAll(TRICKY, 4, (r) => {
      for (let i = 0; i < r.count; i += 1) {
        const value = r.field(i);
        expect(r.equals(i, value)).toBe(true);
        expect(r.equals(i, `${value}x`)).toBe(false);
        expect(r.hash(i)).toBe(textHash(value));
        checked.push(value);
      }
      expect(r.field(r.count)).toBe('');
      expect(r.equals(r.count, '')).toBe(true);
      expect(r.charCodeAt(r.count, 0)).toBeNaN();
    });
    expect(checked).toContain('say "hello" ');
    expect(checked).toContain('two\nlines, and "quotes"');
  });

  it('reads records with more fields than it first has room for', () => {
    const wide = Array.from({ length: 40 }, (_, i) => `f${i}`);
    const seen: string[][] = [];
    scanAll(`${wide.join(',')}\n`, 9, (r) => seen.push(r.fields()));
    expect(seen).toEqual([wide]);
  });
});

describe('readCsvRecords', () => {
  it('reads plain and gzipped files alike (gzip recognised by its bytes, not its name)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csv-spec-'));
    try {
      const text = `${TRICKY}\n${'9,9,"x, y",9\n'.repeat(50_000)}`;
      writeFileSync(join(dir, 'plain.csv'), text);
      writeFileSync(join(dir, 'packed.bin'), gzipSync(Buffer.from(text)));
      const read = async (file: string): Promise<{ records: string[][]; bytes: number }> => {
        const records: string[][] = [];
        let bytes = 0;
        for await (const batch of readCsvRecords(join(dir, file), (b) => (bytes = b))) records.push(...batch);
        return { records, bytes };
      };
      const plain = await read('plain.csv');
      const packed = await read('packed.bin');
      expect(plain.records.slice(0, EXPECTED.length)).toEqual(EXPECTED);
      expect(plain.records).toHaveLength(EXPECTED.length + 50_000);
      expect(plain.records.at(-1)).toEqual(['9', '9', 'x, y', '9']);
      expect(packed.records).toEqual(plain.records);
      expect(plain.bytes).toBe(Buffer.byteLength(text));
      expect(packed.bytes).toBeLessThan(plain.bytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
