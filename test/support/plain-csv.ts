import { readFileSync } from 'node:fs';

/**
 * A deliberately plain CSV reader for computing expected values in tests, independent of the importer's streaming
 * parser: the whole file in memory, one pass, RFC 4180 quoting. Returns the header and the rows as objects.
 */
export function readCsvObjects(file: string): { header: string[]; rows: Array<Record<string, string>> } {
  const text = readFileSync(file, 'utf8');
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else if (c !== '\r') {
      field += c;
    }
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const [header = [], ...body] = records;
  return { header, rows: body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? '']))) };
}

/** "2.55" → 2550, "0.001" → 1, "12" → 12000: an exact decimal in thousandths (at most three decimals). */
export function thousandths(decimal: string): number {
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction = ''] = decimal.replace('-', '').split('.');
  if (fraction.length > 3 && /[1-9]/.test(fraction.slice(3))) throw new Error(`${decimal} has more than three decimals`);
  const value = Number(whole) * 1000 + Number(fraction.slice(0, 3).padEnd(3, '0'));
  return negative ? -value : value;
}
