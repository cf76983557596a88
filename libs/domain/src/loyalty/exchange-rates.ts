import { DomainError } from '../shared/domain-error';
import { add, rescale, zero } from '../shared/money';
import type { Money } from '../shared/money';

/**
 * One rate of a loyalty policy: one unit of `currency` is worth `rate` units of the policy's points currency on and
 * after the UTC day `from` (until a later `from` of the same currency). The rate is a decimal string, never a float:
 * 900.00 EUR at "0.85" is exactly 765.00.
 */
export interface ExchangeRate {
  readonly currency: string;
  readonly rate: string;
  /** A calendar day, YYYY-MM-DD (UTC). */
  readonly from: string;
}

/** Rates are ratios, not prices: they may need more decimals than a price (1 IDR ≈ 0.000047 GBP). */
export const MAX_RATE_DECIMALS = 10;
const RATE = /^(\d{1,9})(?:\.(\d{1,10}))?$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A positive rate as an integer and a scale ("0.85" is 85 at scale 2); null when not such a decimal string. */
export function parseRate(text: unknown): { digits: bigint; scale: number } | null {
  if (typeof text !== 'string') return null;
  const match = RATE.exec(text);
  if (!match) return null;
  const [, whole = '0', fraction = ''] = match;
  const digits = BigInt(whole + fraction);
  return digits > 0n ? { digits, scale: fraction.length } : null;
}

/** The UTC calendar day of an instant: the day a rate's `from` is compared with. */
export function utcDay(instant: string): string {
  return new Date(Date.parse(instant)).toISOString().slice(0, 10);
}

/** The rate for `currency` on `day`: the one with the latest `from` on or before that day; null when none applies yet. */
export function rateOn(rates: readonly ExchangeRate[], currency: string, day: string): ExchangeRate | null {
  let best: ExchangeRate | null = null;
  for (const r of rates) {
    if (r.currency !== currency || r.from > day) continue;
    if (best === null || r.from > best.from) best = r;
  }
  return best;
}

/**
 * `amount` in the points currency at `rate`, exact to the amount's own scale, rounded half away from zero (the
 * commercial rule: 0.005 → 0.01), so a bucket and its full return convert to amounts that cancel exactly.
 */
export function convert(amount: Money, rate: ExchangeRate, to: string): Money {
  const parsed = parseRate(rate.rate);
  if (!parsed) throw new DomainError('invalid-money', `not a rate: ${JSON.stringify(rate.rate)}`, { reason: 'invalid-rate', rate: rate.rate });
  const product = BigInt(amount.amount) * parsed.digits;
  const divisor = 10n ** BigInt(parsed.scale);
  let quotient = product / divisor;
  const remainder = product % divisor;
  const magnitude = remainder < 0n ? -remainder : remainder;
  if (2n * magnitude >= divisor) quotient += product < 0n ? -1n : 1n;
  if (quotient > MAX_SAFE || quotient < -MAX_SAFE) {
    throw new DomainError('invalid-money', 'converted amount is too large to be represented exactly', { reason: 'unsafe-amount' });
  }
  return { amount: Number(quotient), scale: amount.scale, currency: to };
}

/** Net spend per currency, per UTC day of purchase: what rates apply to. */
export type SpendByDay = Readonly<Record<string, Readonly<Record<string, Money>>>>;

export interface Valuation {
  /** Everything that could be converted, in the points currency, at the larger scale of its parts. */
  readonly net: Money;
  /** Per currency, the net spend on days its currency had no rate: counted apart, never as zero. Non-zero only. */
  readonly unconverted: Money[];
}

function plus(a: Money, b: Money): Money {
  const scale = Math.max(a.scale, b.scale);
  return add(rescale(a, scale), rescale(b, scale));
}

/**
 * Values spend under a policy: the points currency as is, another currency day by day at that day's rate, and what
 * has no rate reported apart in its own currency. Converted per day (not per purchase) so that rounding happens once
 * per day and currency, and a return (booked on its purchase's day) cancels exactly what its purchase added.
 */
export function valueSpend(policy: { readonly currency: string; readonly rates: readonly ExchangeRate[] }, spend: SpendByDay): Valuation {
  let net = zero(policy.currency);
  const unconverted: Money[] = [];
  for (const currency of Object.keys(spend).sort()) {
    let apart: Money | null = null;
    const days = spend[currency] ?? {};
    for (const day of Object.keys(days).sort()) {
      const amount = days[day];
      if (!amount) continue;
      if (currency === policy.currency) {
        net = plus(net, amount);
        continue;
      }
      const rate = rateOn(policy.rates, currency, day);
      if (rate) net = plus(net, convert(amount, rate, policy.currency));
      else apart = apart ? plus(apart, amount) : amount;
    }
    if (apart && apart.amount !== 0) unconverted.push(apart);
  }
  return { net, unconverted };
}
