import { describe, expect, it } from '@jest/globals';
import { expectDomainError } from '../../test-support/expect-domain-error';
import { add, formatMoney, multiply, parseMoney, rescale, subtract, sumMoney, zero } from './money';

const gbp = (amount: number, scale: number) => ({ amount, scale, currency: 'GBP' });

describe('parseMoney', () => {
  it.each([
    ['4.50', gbp(450, 2)],
    ['4.5', gbp(450, 2)],
    ['0.001', gbp(1, 3)],
    ['0.0010', gbp(10, 4)],
    ['1', gbp(100, 2)],
    ['-2.55', gbp(-255, 2)],
    ['-1.5', gbp(-150, 2)],
    ['0', gbp(0, 2)],
    ['-0.00', gbp(0, 2)],
    ['90071992547409.91', gbp(9007199254740991, 2)],
  ])('reads the decimal string %j', (text, expected) => {
    expect(parseMoney(text, 'GBP')).toEqual(expected);
  });

  it.each([
    [1, gbp(100, 2)],
    [4.5, gbp(450, 2)],
    [4.1, gbp(410, 2)],
    [0.001, gbp(1, 3)],
    [-2.55, gbp(-255, 2)],
    [12.3456, gbp(123456, 4)],
  ])('reads the JSON number %p through its shortest decimal form', (value, expected) => {
    expect(parseMoney(value, 'GBP')).toEqual(expected);
  });

  it.each(['1.23456', '0.00001', 'abc', '', '1e3', '1.', '.5', ' 1', '1 ', '+1', '1,50', '--1', '0x10', '١٢'])(
    'refuses %j as not a decimal with at most 4 decimals',
    (text) => {
      expectDomainError(() => parseMoney(text, 'GBP'), 'invalid-money', { reason: 'not-a-decimal' });
    },
  );

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 0.1 + 0.2, 1e-7, 1e21])('refuses the number %p', (value) => {
    expectDomainError(() => parseMoney(value, 'GBP'), 'invalid-money');
  });

  it.each(['90071992547409.92', '-90071992547409.92', '123456789012345678901234567890'])(
    'refuses %j, whose amount is not a safe integer',
    (text) => {
      expectDomainError(() => parseMoney(text, 'GBP'), 'invalid-money', { reason: 'unsafe-amount' });
    },
  );

  it('refuses a value that is neither string nor number (untyped JSON)', () => {
    const untyped = JSON.parse('{"price": null}') as { price: string };
    expectDomainError(() => parseMoney(untyped.price, 'GBP'), 'invalid-money', { reason: 'not-a-decimal' });
  });

  it('refuses a missing currency', () => {
    expectDomainError(() => parseMoney('1.00', ''), 'invalid-money', { reason: 'missing-currency' });
  });
});

describe('formatMoney', () => {
  it.each([
    [gbp(450, 2), '4.50'],
    [gbp(1, 3), '0.001'],
    [gbp(-1230, 2), '-12.30'],
    [gbp(-5, 2), '-0.05'],
    [gbp(0, 2), '0.00'],
    [gbp(7, 0), '7'],
    [gbp(123456, 4), '12.3456'],
    [gbp(9007199254740991, 2), '90071992547409.91'],
  ])('writes %j as %j', (money, expected) => {
    expect(formatMoney(money)).toBe(expected);
  });

  it.each(['4.50', '0.001', '-12.30', '0.0010', '100.00'])('round-trips %j', (text) => {
    expect(formatMoney(parseMoney(text, 'GBP'))).toBe(text);
  });
});

describe('arithmetic', () => {
  it('multiplies exactly at the same scale', () => {
    expect(multiply(gbp(1, 3), 3)).toEqual(gbp(3, 3));
    expect(multiply(gbp(450, 2), 2)).toEqual(gbp(900, 2));
  });

  it('refuses a product that is not a safe integer', () => {
    expectDomainError(() => multiply(gbp(Number.MAX_SAFE_INTEGER, 2), 2), 'invalid-money', { reason: 'unsafe-amount' });
  });

  it('refuses a fractional quantity', () => {
    expectDomainError(() => multiply(gbp(100, 2), 1.5), 'invalid-money', { reason: 'invalid-quantity' });
  });

  it('adds at the largest scale of its parts: 0.003 + 9.00 = 9.003', () => {
    expect(add(gbp(3, 3), gbp(900, 2))).toEqual(gbp(9003, 3));
  });

  it('subtracts into negatives', () => {
    expect(subtract(gbp(100, 2), gbp(2550, 3))).toEqual(gbp(-1550, 3));
    expect(formatMoney(subtract(gbp(100, 2), gbp(2550, 3)))).toBe('-1.550');
  });

  it('refuses to combine currencies', () => {
    expectDomainError(() => add(gbp(1, 2), { amount: 1, scale: 2, currency: 'EUR' }), 'invalid-money', {
      reason: 'currency-mismatch',
    });
  });

  it('refuses a sum that is not a safe integer', () => {
    expectDomainError(() => add(gbp(Number.MAX_SAFE_INTEGER, 2), gbp(1, 2)), 'invalid-money', { reason: 'unsafe-amount' });
  });

  it('rescales up only, and never beyond scale 4', () => {
    expect(rescale(gbp(450, 2), 4)).toEqual(gbp(45000, 4));
    expectDomainError(() => rescale(gbp(1, 3), 2), 'invalid-money', { reason: 'scale-decrease' });
    expectDomainError(() => rescale(gbp(1, 3), 5), 'invalid-money', { reason: 'invalid-scale' });
    expectDomainError(() => rescale(gbp(Number.MAX_SAFE_INTEGER, 2), 3), 'invalid-money', { reason: 'unsafe-amount' });
  });

  it('sums a list at its largest scale, and an empty list to zero', () => {
    expect(sumMoney([gbp(3, 3), gbp(900, 2), gbp(1, 2)], 'GBP')).toEqual(gbp(9013, 3));
    expect(sumMoney([], 'GBP')).toEqual(gbp(0, 2));
  });

  it('makes a zero at a given scale', () => {
    expect(zero('GBP')).toEqual(gbp(0, 2));
    expect(zero('GBP', 4)).toEqual(gbp(0, 4));
  });
});
