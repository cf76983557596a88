import type { FollowUp } from '../api.js';
import { customerNames } from '../customer-names.js';
import { h, time } from '../dom.js';
import type { Session } from '../session.js';
import { problemArea, showProblem } from '../problem-view.js';

/** The signed-in agent's open follow-ups, earliest first: what is due now, then what comes next. */
export async function renderFollowUps(session: Session): Promise<void> {
  const { api, me, main } = session;
  const { items } = await api.followUps(me.id);
  const names = await customerNames(api, items.flatMap((f) => (f.customerId ? [f.customerId] : [])));
  const now = Date.now();
  const due = items.filter((f) => Date.parse(f.dueAt) <= now);
  const upcoming = items.filter((f) => Date.parse(f.dueAt) > now);
  const item = (f: FollowUp): HTMLElement => {
    const problem = problemArea();
    const complete = h('button', { type: 'button', class: 'small' }, 'Complete');
    complete.addEventListener('click', () => {
      if (!f.customerId) return;
      void api.completeFollowUp(f.customerId, f.followUpId).then(() => renderFollowUps(session), (error: unknown) => showProblem(problem, error));
    });
    return h('li', {}, time(f.dueAt), ' ',
      f.customerId ? h('a', { href: `#/customers/${encodeURIComponent(f.customerId)}` }, names.get(f.customerId) ?? f.customerId) : null,
      `: ${f.reason} `,
      f.customerId ? complete : null, problem);
  };
  main.replaceChildren(
    h('h2', {}, `Follow-ups for ${me.id}`),
    h('section', { class: 'card', 'aria-labelledby': 'due-heading' },
      h('h3', { id: 'due-heading' }, 'Due now'),
      due.length ? h('ul', { class: 'due' }, ...due.map(item)) : h('p', { class: 'muted' }, 'Nothing due.')),
    h('section', { class: 'card', 'aria-labelledby': 'upcoming-heading' },
      h('h3', { id: 'upcoming-heading' }, 'Upcoming'),
      upcoming.length ? h('ul', {}, ...upcoming.map(item)) : h('p', { class: 'muted' }, 'Nothing scheduled.')));
}
