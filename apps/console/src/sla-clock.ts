/**
 * Live SLA clocks. A complaint's next deadline is its first response while unanswered, else its resolution (as the
 * complaints read model's `nextDeadline`); every clock on the page is redrawn by one timer each second from the
 * deadline itself, so clocks never drift apart and a tab woken from sleep shows the right time at once.
 */

export interface Deadlines {
  readonly status: string;
  readonly firstResponseDueAt: string;
  readonly resolutionDueAt: string;
  /** Set once the first-response clock stopped (board: firstResponseMetAt; profile: respondedAt). */
  readonly firstResponseMetAt?: string | null;
  readonly respondedAt?: string | null;
}

export interface Deadline { readonly label: 'First response' | 'Resolution'; readonly dueAt: string }

export function nextDeadline(c: Deadlines): Deadline | null {
  if (c.status === 'resolved' || c.status === 'closed') return null;
  const answered = c.status === 'responded' || Boolean(c.firstResponseMetAt ?? c.respondedAt);
  return answered ? { label: 'Resolution', dueAt: c.resolutionDueAt } : { label: 'First response', dueAt: c.firstResponseDueAt };
}

export function formatDuration(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  // Seconds always: a live clock that moves only once a minute looks stopped.
  const parts = [days > 0 ? `${days}d` : '', days > 0 || hours > 0 ? `${hours}h` : '', `${minutes}m`, `${seconds}s`];
  return parts.filter(Boolean).join(' ');
}

export function describeClock(deadline: Deadline, now: number): { text: string; overdue: boolean } {
  const left = Date.parse(deadline.dueAt) - now;
  return left >= 0
    ? { text: `${deadline.label} due in ${formatDuration(left)}`, overdue: false }
    : { text: `${deadline.label} overdue by ${formatDuration(left)}`, overdue: true };
}

/** role=timer: assistive technology does not announce each tick (its live region is off by default). */
export function slaClock(deadline: Deadline): HTMLElement {
  const element = document.createElement('span');
  element.className = 'sla-clock';
  element.setAttribute('role', 'timer');
  element.dataset['due'] = deadline.dueAt;
  element.dataset['label'] = deadline.label;
  redraw(element, Date.now());
  return element;
}

function redraw(element: HTMLElement, now: number): void {
  const dueAt = element.dataset['due'];
  const label = element.dataset['label'];
  if (!dueAt || (label !== 'First response' && label !== 'Resolution')) return;
  const { text, overdue } = describeClock({ label, dueAt }, now);
  if (element.textContent !== text) element.textContent = text;
  element.classList.toggle('overdue', overdue);
}

export function startClocks(): void {
  setInterval(() => {
    const now = Date.now();
    for (const element of document.querySelectorAll<HTMLElement>('.sla-clock')) redraw(element, now);
  }, 1000);
}
