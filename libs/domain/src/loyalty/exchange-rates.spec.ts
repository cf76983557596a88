import { describe, expect, it } from '@jest/globals';
import { parseMoney } from '../shared/money';
import type { Money } from '../shared/money';
import { convert, rateOn, utcDay, valueSpend } from './exchange-rates';
import type { ExchangeRate } from './exchange-rates';
import { DEFAULT_LOYALTY_POLICY, pointsFor } from './loyalty-policy';

const eur = (v: string): Money => parseMoney(v, 'EUR');
const gbp = (v: string): Money => parseMoney(v, 'GBP');
const EUR_085: ExchangeRate = { currency: 'EUR', rate: '0.85', from: '2026-01-01' };
const EUR_090: ExchangeRate = { currency: 'EUR', rate: '0.90', from: '2026-03-01' };
const USD_079: ExchangeRate = { currency: 'USD', rate: '0.79', from: '2026-01-01' };
const policy = { ...DEFAULT_LOYALTY_POLICY, currency: 'GBP', rates: [EUR_090, USD_079, EUR_085] };

describe('rate selection by the day of the purchase', () => {
  it('given rates from 1 January and 1 March, when a purchase is on a day, then the latest rate from on or before it applies', () => {
    expect(rateOn(policy.rates, 'EUR', '2026-02-28')).toBe(EUR_085);
    expect(rateOn(policy.rates, 'EUR', '2026-03-01')).toBe(EUR_090); // the boundary day already has the new rate
    expect(rateOn(policy.rates, 'EUR', '2027-06-30')).toBe(EUR_090);
    expect(rateOn(policy.rates, 'USD', '2026-03-05')).toBe(USD_079);
  });

  it('given no rate yet for the day or none for the currency, then there is no rate (not a rate of 0)', () => {
    expect(rateOn(policy.rates, 'EUR', '2025-12-31')).toBeNull();
    expect(rateOn(policy.rates, 'JPY', '2026-03-05')).toBeNull();
  });

  it('takes the day of an instant in UTC, so a purchase at 23:30 in Vilnius on 28 February counts on the 28th', () => {
    expect(utcDay('2026-02-28T21:30:00.000Z')).toBe('2026-02-28');
    expect(utcDay('2026-03-01T01:30:00+02:00')).toBe('2026-02-28');
  });
});

describe('converting exactly', () => {
  it('given 900.00 EUR at 0.85, then exactly 765.00 GBP, which earns 765 points at 1 point per pound', () => {
    const converted = convert(eur('900.00'), EUR_085, 'GBP');
    expect(converted).toEqual(gbp('765.00'));
    expect(pointsFor(policy, converted)).toBe(765);
  });

  it('rounds half away from zero at the amount’s own scale, and a negative amount mirrors the positive one', () => {
    expect(convert(eur('0.01'), { ...EUR_085, rate: '0.5' }, 'GBP')).toEqual({ amount: 1, scale: 2, currency: 'GBP' });
    expect(convert(eur('0.01'), { ...EUR_085, rate: '0.49' }, 'GBP')).toEqual({ amount: 0, scale: 2, currency: 'GBP' });
    expect(convert({ amount: -1, scale: 2, currency: 'EUR' }, { ...EUR_085, rate: '0.5' }, 'GBP')).toEqual({ amount: -1, scale: 2, currency: 'GBP' });
    expect(convert(parseMoney('0.001', 'IDR'), { currency: 'IDR', rate: '0.0000470000', from: '2026-01-01' }, 'GBP').amount).toBe(0);
    expect(convert(parseMoney('1000000.0000', 'IDR'), { currency: 'IDR', rate: '0.000047', from: '2026-01-01' }, 'GBP')).toEqual(parseMoney('47.0000', 'GBP'));
  });
});

describe('valuing spend under a policy', () => {
  it('given spend in pounds, euros before and after a rate change, then each day converts at its own rate', () => {
    const valued = valueSpend(policy, {
      GBP: { '2026-02-01': gbp('10.00') },
      EUR: { '2026-02-15': eur('100.00'), '2026-03-01': eur('100.00') },
    });
    expect(valued).toEqual({ net: gbp('185.00'), unconverted: [] }); // 10 + 85 + 90
  });

  it('given a return booked on its purchase’s day, then it claws back exactly the converted amount the purchase added', () => {
    const bought = valueSpend(policy, { EUR: { '2026-02-15': eur('900.00') } });
    const partlyReturned = valueSpend(policy, { EUR: { '2026-02-15': eur('600.00') } }); // 300 returned
    const allReturned = valueSpend(policy, { EUR: { '2026-02-15': eur('0.00') } });
    expect(bought.net).toEqual(gbp('765.00'));
    expect(partlyReturned.net).toEqual(gbp('510.00'));
    expect(allReturned.net).toEqual(gbp('0.00'));
  });

  it('given spend in a currency without a rate for its day, then it is reported apart in its own currency, never as 0', () => {
    const valued = valueSpend(policy, {
      EUR: { '2025-12-20': eur('40.00'), '2026-01-05': eur('100.00') },
      JPY: { '2026-01-05': { amount: 1200, scale: 0, currency: 'JPY' } },
    });
    expect(valued).toEqual({
      net: gbp('85.00'),
      unconverted: [eur('40.00'), { amount: 1200, scale: 0, currency: 'JPY' }],
    });
  });

  it('given a policy whose points currency is euros, then pounds without a rate are the ones not converted', () => {
    const valued = valueSpend({ currency: 'EUR', rates: [] }, { GBP: { '2026-01-05': gbp('5.00') }, EUR: { '2026-01-05': eur('7.00') } });
    expect(valued).toEqual({ net: eur('7.00'), unconverted: [gbp('5.00')] });
  });
});
