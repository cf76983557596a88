import 'reflect-metadata';
import { type ArgumentMetadata, type PipeTransform, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage, validateSync } from 'class-validator';
import * as complaintDtos from '../complaints/complaint.dto';
import * as customerDtos from '../customers/customer.dto';
import * as mergeDtos from '../customers/merge-customers.dto';
import * as purchaseDtos from '../purchases/purchase.dto';
import { CompiledValidationPipe } from './compiled-validation';
import { ApiProblem } from './problem';
import { makeValidationPipe, VALIDATION_OPTIONS } from './validation';

type DtoClass = new () => object;

const DTOS: Array<[string, DtoClass]> = Object.entries({ ...customerDtos, ...complaintDtos, ...mergeDtos, ...purchaseDtos })
  .filter((e): e is [string, DtoClass] => typeof e[1] === 'function' && e[0].endsWith('Dto'));

const body = (metatype: DtoClass): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

type Outcome = { ok: true; proto: unknown; value: Array<[string, unknown]> } | { ok: false; problem: unknown };

async function outcome(pipe: PipeTransform<unknown, unknown>, value: unknown, metatype: DtoClass): Promise<Outcome> {
  try {
    // A copy each: the full pipe strips prototype keys from the value in place.
    const result = (await pipe.transform(structuredClone(value), body(metatype))) as object;
    return { ok: true, proto: Object.getPrototypeOf(result), value: Object.entries(result) };
  } catch (error) {
    return { ok: false, problem: error instanceof ApiProblem ? error.toBody() : String(error) };
  }
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Values valid for some field of some DTO and invalid for others, so that random bodies hit both halves.
const POOL: unknown[] = [
  'phone', 'email', 'inbound', 'outbound', 'support', 'sales', 'marketing', 'complaint', 'follow-up', 'customer', 'prospect',
  'P1', 'P4', 'agent-ana', 'billing', 'EUR', 'GBP', '4.50', '0.001', 'SKU-1', 'a@example.com', '+46 70 123 45 67',
  '2026-11-23T10:00:00Z', '2026-11-23T10:00:00', 'not a date', '', ' ', 'x', 'x'.repeat(501), 'x'.repeat(5001),
  '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 'bad id with spaces', 0, 1, 3, -1, 2.5, 1e21, true, false, null,
  [], ['a'], [{ sku: 'SKU-1', quantity: 1, unitPrice: '4.50', description: 'Mug' }], { nested: true },
];

function propertiesOf(metatype: DtoClass): string[] {
  return [...new Set(getMetadataStorage().getTargetValidationMetadatas(metatype, '', false, false, undefined).map((m) => m.propertyName))];
}

/** Per property, the pool values its own rules accept: bodies made of them pass, so the accepting path is exercised. */
function acceptedValues(metatype: DtoClass, property: string): unknown[] {
  return POOL.filter((v) => !validateSync(Object.assign(new metatype(), { [property]: v })).some((e) => e.property === property));
}

describe('CompiledValidationPipe: the same answer as the full ValidationPipe for every DTO', () => {
  const full = new ValidationPipe(VALIDATION_OPTIONS);
  const compiled = makeValidationPipe();

  it('is the pipe the app uses', () => {
    expect(compiled).toBeInstanceOf(CompiledValidationPipe);
  });

  it.each(DTOS)('%s: random bodies are accepted or refused alike, with the same instance or the same problem', async (_name, metatype) => {
    const properties = propertiesOf(metatype);
    const good = new Map(properties.map((p) => [p, acceptedValues(metatype, p)]));
    const next = random(properties.length * 7919 + metatype.name.length);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const value: Record<string, unknown> = {};
      for (const p of properties) {
        const r = next();
        const candidates = good.get(p) ?? [];
        if (r < 0.85 && candidates.length > 0) value[p] = pick(candidates);
        else if (r < 0.95) value[p] = pick(POOL);
      }
      if (next() < 0.05) value['unexpected'] = 'x';
      const a = await outcome(full, value, metatype);
      const b = await outcome(compiled, value, metatype);
      expect(b).toEqual(a);
      if (a.ok) accepted += 1;
    }
    // Not an assertion on the DTOs: it tells whether the random bodies exercised the accepting path at all.
    // The bodies exercised both paths (DTOs with nested lines take the full pipe anyway and are rarely valid here).
    if (!properties.includes('lines')) expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(400);
  });

  const contact = {
    channel: 'phone', direction: 'inbound', purpose: 'support',
    summary: 'Customer called about the delivery date of order 4711.', outcome: 'Explained the delivery schedule.',
  };
  const cases: Array<[string, unknown]> = [
    ['a valid contact', contact],
    ['with occurredAt and complaintId', { ...contact, occurredAt: '2026-11-23T10:00:00+01:00', complaintId: 'cmp-1' }],
    ['an unknown field', { ...contact, extra: 1 }],
    ['a `constructor` key', { ...contact, constructor: 'x' }],
    ['an empty summary', { ...contact, summary: '' }],
    ['a summary over 5,000 characters', { ...contact, summary: 'x'.repeat(5001) }],
    ['a local time without zone', { ...contact, occurredAt: '2026-11-23T10:00:00' }],
    ['a number for a string', { ...contact, outcome: 42 }],
    ['null for an optional field', { ...contact, complaintId: null }],
    ['an array body', [contact]],
    ['a string body', 'contact'],
    ['no body', undefined],
    ['a missing required field', { channel: 'phone', direction: 'inbound', purpose: 'support', summary: 's' }],
  ];
  it.each(cases)('LogContactDto, %s: the same outcome', async (_label, value) => {
    expect(await outcome(compiled, value, customerDtos.LogContactDto)).toEqual(await outcome(full, value, customerDtos.LogContactDto));
  });

  it('answers a valid contact without the full pipe, and any refusal with it', async () => {
    const spy = jest.spyOn(ValidationPipe.prototype, 'transform');
    try {
      const dto = await compiled.transform({ ...contact }, body(customerDtos.LogContactDto));
      expect(dto).toBeInstanceOf(customerDtos.LogContactDto);
      expect(spy).not.toHaveBeenCalled();
      await expect(compiled.transform({ ...contact, summary: '' }, body(customerDtos.LogContactDto))).rejects.toBeInstanceOf(ApiProblem);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('leaves parameters other than the body to the full pipe', async () => {
    expect(await compiled.transform('42', { type: 'param', metatype: Number, data: 'n' })).toBe(await full.transform('42', { type: 'param', metatype: Number, data: 'n' }));
  });

  it('answers what it need not validate synchronously, as the full pipe would: a valid body, a path id, a custom decorator', async () => {
    const context = { principal: { id: 'agent-ana', role: 'agent' } };
    const passing: Array<[unknown, ArgumentMetadata]> = [
      [{ ...contact }, body(customerDtos.LogContactDto)],
      ['cus-1', { type: 'param', metatype: String, data: 'id' }],
      ['7', { type: 'query', metatype: Number, data: 'limit' }],
      ['true', { type: 'query', metatype: Boolean, data: 'breached' }],
      [context, { type: 'custom', metatype: Object, data: undefined }],
      [context, { type: 'custom', metatype: undefined, data: undefined }],
    ];
    for (const [value, metadata] of passing) {
      const answer = compiled.transform(value, metadata);
      expect(answer).not.toBeInstanceOf(Promise);
      expect(answer).toEqual(await full.transform(value, metadata));
    }
    expect(compiled.transform(context, { type: 'custom', metatype: Object, data: undefined })).toBe(context);
  });
});
