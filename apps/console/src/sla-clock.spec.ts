/// <reference types="jest" />
import { describeClock, formatDuration, nextDeadline } from './sla-clock';

const FILED = { firstResponseDueAt: '2026-03-02T14:00:00.000Z', resolutionDueAt: '2026-03-03T10:00:00.000Z' };
const at = (iso: string): number => Date.parse(iso);

describe('SLA clock', () => {
  it('runs the first-response clock until the complaint is answered, then the resolution clock, and none once resolved', () => {
    expect(nextDeadline({ ...FILED, status: 'filed' })).toEqual({ label: 'First response', dueAt: FILED.firstResponseDueAt });
    expect(nextDeadline({ ...FILED, status: 'responded' })).toEqual({ label: 'Resolution', dueAt: FILED.resolutionDueAt });
    // Reopened after a resolution that came first: still filed, but the first-response clock had stopped (board field).
    expect(nextDeadline({ ...FILED, status: 'filed', firstResponseMetAt: '2026-03-02T12:00:00.000Z' })?.label).toBe('Resolution');
    expect(nextDeadline({ ...FILED, status: 'resolved' })).toBeNull();
    expect(nextDeadline({ ...FILED, status: 'closed' })).toBeNull();
  });

  it('counts down to the second and says by how much a deadline was missed', () => {
    const deadline = { label: 'First response' as const, dueAt: FILED.firstResponseDueAt };
    expect(describeClock(deadline, at('2026-03-02T10:00:01.000Z'))).toEqual({ text: 'First response due in 3h 59m 59s', overdue: false });
    expect(describeClock(deadline, at('2026-03-02T13:59:59.400Z'))).toEqual({ text: 'First response due in 0m 0s', overdue: false });
    expect(describeClock(deadline, at('2026-03-02T14:00:00.000Z'))).toEqual({ text: 'First response due in 0m 0s', overdue: false });
    expect(describeClock(deadline, at('2026-03-02T15:01:05.000Z'))).toEqual({ text: 'First response overdue by 1h 1m 5s', overdue: true });
  });

  it('keeps the seconds when a deadline is days away, so the clock is seen to run', () => {
    expect(formatDuration(2 * 86_400_000 + 3_600_000 + 61_000)).toBe('2d 1h 1m 1s');
    expect(formatDuration(86_400_000)).toBe('1d 0h 0m 0s');
  });
});
