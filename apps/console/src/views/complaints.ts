import type { BoardComplaint } from '../api.js';
import { customerNames } from '../customer-names.js';
import { formatInstant, h } from '../dom.js';
import type { Session } from '../session.js';
import { nextDeadline, slaClock } from '../sla-clock.js';

/** The complaint board: every open complaint, the one whose next SLA deadline comes first on top, breaches marked. */
export async function renderComplaintBoard(session: Session): Promise<void> {
  const { api, me, main } = session;
  const board = await api.openComplaints();
  const names = await customerNames(api, board.items.map((c) => c.customerId));
  const rows = board.items
    .map((c) => ({ c, deadline: nextDeadline(c) }))
    .sort((a, b) => (a.deadline ? Date.parse(a.deadline.dueAt) : Infinity) - (b.deadline ? Date.parse(b.deadline.dueAt) : Infinity));
  const row = ({ c, deadline }: { c: BoardComplaint; deadline: ReturnType<typeof nextDeadline> }): HTMLElement =>
    h('tr', { class: c.breached ? 'breached' : '' },
      h('td', {}, deadline ? slaClock(deadline) : '—'),
      h('td', {}, c.breached ? h('span', { class: 'badge danger' }, 'Breached') : h('span', { class: 'muted' }, 'On time')),
      h('td', {}, c.priority),
      h('td', {}, c.status),
      h('td', {}, c.category),
      h('td', {}, c.ownerId === me.id ? h('strong', {}, 'me') : c.ownerId ?? 'unassigned'),
      h('td', {}, formatInstant(c.filedAt)),
      h('td', {}, h('a', { href: `#/customers/${encodeURIComponent(c.customerId)}` }, names.get(c.customerId) ?? c.customerId)));
  main.replaceChildren(
    h('h2', {}, 'Complaints'),
    h('section', { class: 'card' },
      rows.length === 0
        ? h('p', { class: 'muted' }, 'No open complaint.')
        : h('table', {},
          h('caption', {}, `Open complaints by due time (${board.total})`),
          h('thead', {}, h('tr', {}, ...['SLA clock', 'Breach', 'Priority', 'Status', 'Category', 'Owner', 'Filed', 'Customer'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...rows.map(row)))));
}
