import { uuidv7 } from './uuidv7';

describe('uuidv7', () => {
  it('has version 7, the RFC variant and the timestamp in the first 48 bits', () => {
    const id = uuidv7(Date.UTC(2026, 10, 23, 12, 0, 0));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.UTC(2026, 10, 23, 12, 0, 0));
  });

  it('sorts in creation order even within one millisecond', () => {
    const t = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 50 }, () => uuidv7(t));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
  });
});

describe('uuidv7 text', () => {
  it('is a fresh, well-formed id every time across refills of the random pool (more than 256 ids)', () => {
    const t = Date.UTC(2031, 5, 1, 8, 30);
    const ids = Array.from({ length: 3000 }, (_, i) => uuidv7(t + Math.floor(i / 7)));
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBeGreaterThanOrEqual(t);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The returned strings do not share the reused buffer: an earlier id is unchanged by later ones.
    const first = ids[0];
    uuidv7(t + 10_000);
    expect(ids[0]).toBe(first);
  });

  it('keeps the millisecond of times past 2^40 ms and the counter in rand_a', () => {
    const t = 2 ** 47 + 0x123456789a; // year ~6429: exercises the top 8 bits of the 48-bit time
    const a = uuidv7(t);
    const b = uuidv7(t);
    expect(parseInt(a.slice(0, 8) + a.slice(9, 13), 16)).toBe(t);
    expect(a.slice(14, 18)).toBe('7000');
    expect(b.slice(14, 18)).toBe('7001');
  });
});
