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
