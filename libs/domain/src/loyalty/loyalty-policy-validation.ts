import { MAX_RATE_DECIMALS, parseRate } from './exchange-rates';
import type { ExchangeRate } from './exchange-rates';
import type { LoyaltyPolicy } from './loyalty-policy';

/** One invalid field of a policy, by its path in the body (`rates[1].from`), as the HTTP problem lists it. */
export interface PolicyFieldError {
  readonly field: string;
  readonly messages: string[];
}

export type LoyaltyPolicyValidation = { ok: true; policy: LoyaltyPolicy } | { ok: false; errors: PolicyFieldError[] };

const CURRENCY = /^[A-Z]{3}$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const FIELDS = ['version', 'currency', 'pointsPerUnit', 'tiers', 'rates'];
const MAX_VERSION_LENGTH = 100;
const MAX_RATES = 1000;
const MAX_TIERS = 50;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isCalendarDay(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const m = DAY.exec(text);
  if (!m) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/**
 * Checks a whole policy version as PUT /loyalty/policies receives it, naming every invalid field; returns the policy
 * with only its own fields (the shape GET shows). Pure: the versions already published are the decider's concern.
 */
export function validateLoyaltyPolicy(input: unknown): LoyaltyPolicyValidation {
  const errors: PolicyFieldError[] = [];
  const fail = (field: string, message: string): void => {
    const existing = errors.find((e) => e.field === field);
    if (existing) existing.messages.push(message);
    else errors.push({ field, messages: [message] });
  };
  if (!isRecord(input)) return { ok: false, errors: [{ field: '(body)', messages: ['the body must be a JSON object: a whole policy version'] }] };
  for (const key of Object.keys(input)) if (!FIELDS.includes(key)) fail(key, `${key} is not a field of a loyalty policy (${FIELDS.join(', ')})`);

  const { version, currency, pointsPerUnit, tiers, rates } = input;
  if (typeof version !== 'string' || version.trim() === '' || version.length > MAX_VERSION_LENGTH || version !== version.trim()) {
    fail('version', `version must be a non-empty string of at most ${MAX_VERSION_LENGTH} characters without surrounding spaces`);
  }
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) fail('currency', 'currency must be an ISO 4217 code of three capital letters, e.g. "GBP"');
  // pointsFor works in thousandths of a point; read through the number's shortest decimal form (1.005 * 1000 is not 1005).
  if (typeof pointsPerUnit !== 'number' || !(pointsPerUnit > 0) || !/^\d{1,9}(\.\d{1,3})?$/.test(String(pointsPerUnit))) {
    fail('pointsPerUnit', 'pointsPerUnit must be a positive number with at most 3 decimals');
  }

  if (!Array.isArray(tiers) || tiers.length === 0 || tiers.length > MAX_TIERS) {
    fail('tiers', `tiers must be a list of 1 to ${MAX_TIERS} { name, minPoints }, the first at 0 points`);
  } else {
    const names = new Set<string>();
    tiers.forEach((tier: unknown, i) => {
      if (!isRecord(tier)) return fail(`tiers[${i}]`, 'a tier is an object { name, minPoints }');
      for (const key of Object.keys(tier)) if (key !== 'name' && key !== 'minPoints') fail(`tiers[${i}].${key}`, `${key} is not a field of a tier`);
      if (typeof tier['name'] !== 'string' || tier['name'].trim() === '') fail(`tiers[${i}].name`, 'name must be a non-empty string');
      else if (names.has(tier['name'])) fail(`tiers[${i}].name`, `tier ${tier['name']} is named twice`);
      else names.add(tier['name']);
      const min = tier['minPoints'];
      const previous: unknown = i > 0 ? (tiers[i - 1] as Record<string, unknown> | undefined)?.['minPoints'] : undefined;
      if (typeof min !== 'number' || !Number.isSafeInteger(min) || min < 0) fail(`tiers[${i}].minPoints`, 'minPoints must be a non-negative integer');
      else if (i === 0 && min !== 0) fail(`tiers[${i}].minPoints`, 'the first tier must start at 0 points, so that every customer has a tier');
      else if (typeof previous === 'number' && min <= previous) fail(`tiers[${i}].minPoints`, 'tiers must be in strictly ascending order of minPoints');
    });
  }

  if (!Array.isArray(rates) || rates.length > MAX_RATES) {
    fail('rates', `rates must be a list (at most ${MAX_RATES}) of { currency, rate, from }; [] for none`);
  } else {
    const seen = new Set<string>();
    rates.forEach((rate: unknown, i) => {
      if (!isRecord(rate)) return fail(`rates[${i}]`, 'a rate is an object { currency, rate, from }');
      for (const key of Object.keys(rate)) if (!['currency', 'rate', 'from'].includes(key)) fail(`rates[${i}].${key}`, `${key} is not a field of a rate`);
      const c = rate['currency'];
      if (typeof c !== 'string' || !CURRENCY.test(c)) fail(`rates[${i}].currency`, 'currency must be an ISO 4217 code of three capital letters, e.g. "EUR"');
      else if (c === currency) fail(`rates[${i}].currency`, `${c} is the points currency itself (its rate is 1)`);
      if (parseRate(rate['rate']) === null) {
        fail(`rates[${i}].rate`, `rate must be a positive decimal string with at most ${MAX_RATE_DECIMALS} decimals, e.g. "0.85" (a string: no floating point)`);
      }
      if (!isCalendarDay(rate['from'])) fail(`rates[${i}].from`, 'from must be a calendar day YYYY-MM-DD (UTC) from which the rate applies');
      const key = `${String(c)} ${String(rate['from'])}`;
      if (seen.has(key)) fail(`rates[${i}]`, `a second rate for ${String(c)} from ${String(rate['from'])}: one rate per currency and day`);
      seen.add(key);
    });
  }

  if (errors.length > 0) return { ok: false, errors };
  const policy: LoyaltyPolicy = {
    version: version as string,
    currency: currency as string,
    pointsPerUnit: pointsPerUnit as number,
    tiers: (tiers as Array<Record<string, unknown>>).map((t) => ({ name: t['name'] as string, minPoints: t['minPoints'] as number })),
    rates: (rates as Array<Record<string, unknown>>).map((r): ExchangeRate => ({ currency: r['currency'] as string, rate: r['rate'] as string, from: r['from'] as string })),
  };
  return { ok: true, policy };
}
