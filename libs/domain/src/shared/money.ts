import { DomainError } from './domain-error';

/**
 * Exact money: the value is `amount / 10^scale` in `currency`. Never a float, because real price
 * lists carry sub-penny unit prices (0.001) and totals must add up to the penny. The scale is part
 * of the value's type: a total uses the largest scale of its parts.
 */
export interface Money {
  /** A safe integer. */
  amount: number;
  /** 0..MAX_SCALE */
  scale: number;
  currency: string;
}

export const MAX_SCALE = 4;
/** Prices written with fewer decimals are kept in minor units ("4.5" is 450 at scale 2). */
export const MIN_PARSED_SCALE = 2;

const DECIMAL = /^(-?)(\d+)(?:\.(\d{1,4}))?$/;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function invalid(message: string, details: Record<string, unknown>): DomainError {
  return new DomainError('invalid-money', message, details);
}

function toSafeAmount(value: bigint, details: Record<string, unknown>): number {
  if (value < MIN_SAFE || value > MAX_SAFE) {
    throw invalid('amount is too large to be represented exactly', { ...details, reason: 'unsafe-amount' });
  }
  return Number(value);
}

function checkScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < 0 || scale > MAX_SCALE) {
    throw invalid(`scale must be an integer from 0 to ${MAX_SCALE}, got ${scale}`, { reason: 'invalid-scale', scale });
  }
}

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw invalid(`cannot combine ${a.currency} and ${b.currency}`, {
      reason: 'currency-mismatch',
      currencies: [a.currency, b.currency],
    });
  }
}

function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** Throws DomainError('invalid-money') unless `m` is a well-formed Money value. */
export function assertMoney(m: Money): void {
  if (typeof m.currency !== 'string' || m.currency.length === 0) {
    throw invalid('currency is required', { reason: 'missing-currency' });
  }
  checkScale(m.scale);
  if (!Number.isSafeInteger(m.amount)) {
    throw invalid('amount must be a safe integer', { reason: 'unsafe-amount', amount: m.amount });
  }
}

/**
 * Reads a price in major units: a decimal string ("4.50", "0.001", "-1.5") or a JSON number,
 * which is read through its shortest round-trip decimal form (so 4.1 is "4.1", not 4.0999…).
 * At most four decimals. The written scale is kept, with a minimum of two.
 */
export function parseMoney(value: string | number, currency: string): Money {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`not a decimal amount: ${String(value)}`, { reason: 'not-a-decimal' });
    text = String(value);
  } else if (typeof value === 'string') {
    text = value;
  } else {
    throw invalid('amount must be a decimal string or a number', { reason: 'not-a-decimal' });
  }
  const match = DECIMAL.exec(text);
  if (match === null) {
    throw invalid(`not a decimal with at most ${MAX_SCALE} decimals: ${JSON.stringify(text)}`, {
      reason: 'not-a-decimal',
      value: text,
    });
  }
  const [, sign = '', whole = '0', fraction = ''] = match;
  const scale = Math.max(MIN_PARSED_SCALE, fraction.length);
  const digits = BigInt(whole + fraction.padEnd(scale, '0'));
  const amount = toSafeAmount(sign === '-' ? -digits : digits, { value: text });
  const money = { amount, scale, currency };
  assertMoney(money);
  return money;
}

export function zero(currency: string, scale = MIN_PARSED_SCALE): Money {
  checkScale(scale);
  return { amount: 0, scale, currency };
}

/** The same value at a larger scale. Lowering the scale could lose digits, so it is refused. */
export function rescale(m: Money, scale: number): Money {
  checkScale(scale);
  if (scale < m.scale) {
    throw invalid(`cannot lower the scale from ${m.scale} to ${scale} without losing digits`, {
      reason: 'scale-decrease',
      from: m.scale,
      to: scale,
    });
  }
  const amount = toSafeAmount(BigInt(m.amount) * pow10(scale - m.scale), { amount: m.amount, scale });
  return { amount, scale, currency: m.currency };
}

export function multiply(m: Money, quantity: number): Money {
  if (!Number.isSafeInteger(quantity)) {
    throw invalid(`quantity must be an integer, got ${quantity}`, { reason: 'invalid-quantity', quantity });
  }
  const amount = toSafeAmount(BigInt(m.amount) * BigInt(quantity), { amount: m.amount, quantity });
  return { amount, scale: m.scale, currency: m.currency };
}

export function add(a: Money, b: Money): Money {
  sameCurrency(a, b);
  const scale = Math.max(a.scale, b.scale);
  const sum = BigInt(rescale(a, scale).amount) + BigInt(rescale(b, scale).amount);
  return { amount: toSafeAmount(sum, { operation: 'add' }), scale, currency: a.currency };
}

export function subtract(a: Money, b: Money): Money {
  sameCurrency(a, b);
  const scale = Math.max(a.scale, b.scale);
  const difference = BigInt(rescale(a, scale).amount) - BigInt(rescale(b, scale).amount);
  return { amount: toSafeAmount(difference, { operation: 'subtract' }), scale, currency: a.currency };
}

/** The sum at the largest scale of its parts; zero at the minimum parsed scale when there are none. */
export function sumMoney(values: readonly Money[], currency: string): Money {
  if (values.length === 0) return zero(currency);
  return values.reduce<Money>((total, value) => add(total, value), zero(currency, 0));
}

/** Major units as a decimal string with exactly `scale` decimals: "4.50", "0.001", "-12.30". */
export function formatMoney(m: Money): string {
  const amount = BigInt(m.amount);
  const sign = amount < 0n ? '-' : '';
  const digits = (amount < 0n ? -amount : amount).toString().padStart(m.scale + 1, '0');
  if (m.scale === 0) return sign + digits;
  return `${sign}${digits.slice(0, -m.scale)}.${digits.slice(-m.scale)}`;
}
