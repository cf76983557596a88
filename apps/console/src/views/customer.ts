import { CHANNELS, DIRECTIONS, PRIORITIES, PURPOSES, type CommandResult, type CustomerSummary, type ProfileComplaint, type TimelineEntry } from '../api.js';
import { field, formatInstant, h, namedForm, select, time } from '../dom.js';
import type { Session } from '../session.js';
import { clearProblem, problemArea, showProblem } from '../problem-view.js';
import { nextDeadline, slaClock } from '../sla-clock.js';

const TIMELINE_PAGE = 20;

/**
 * The customer 360: profile, owner, loyalty, open complaints with live SLA clocks, follow-ups, and the timeline newest
 * first. Commands (log a contact, file or answer a complaint, schedule a follow-up) redraw the parts they change from
 * the read models once those have applied the command's position (the API's minPosition), without a page reload.
 */
export async function renderCustomer(session: Session, customerId: string): Promise<void> {
  const { api, main } = session;
  const [profile, loyalty] = await Promise.all([api.customer(customerId), api.loyalty(customerId)]);

  const heading = h('h2', {}, profile.name);
  const profileSection = h('section', { class: 'card', 'aria-labelledby': 'profile-heading' });
  const complaintsSection = h('section', { class: 'card', 'aria-labelledby': 'complaints-heading' });
  const followUpsSection = h('section', { class: 'card', 'aria-labelledby': 'follow-ups-heading' });
  const timeline = timelineSection(session, customerId);

  const drawProfile = (p: CustomerSummary): void => {
    heading.textContent = p.name;
    profileSection.replaceChildren(
      h('h3', { id: 'profile-heading' }, 'Profile'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Status'), h('dd', {}, p.status),
        h('dt', {}, 'E-mail'), h('dd', {}, p.email ?? '—'),
        h('dt', {}, 'Phone'), h('dd', {}, p.phone ?? '—'),
        h('dt', {}, 'Owner'), h('dd', {}, p.ownerId ?? 'unowned'),
        h('dt', {}, 'Loyalty tier'), h('dd', {}, loyalty.tier),
        h('dt', {}, 'Loyalty points'), h('dd', {}, String(loyalty.points)),
        h('dt', {}, 'Contacts in the last 7 days'), h('dd', {}, `${p.contactsLast7Days} (${p.outboundContactsLast7Days} outbound)`),
        h('dt', {}, 'Last contact'), h('dd', {}, p.lastContact ? `${p.lastContact.direction} ${p.lastContact.channel} (${p.lastContact.purpose}), ${formatInstant(p.lastContact.occurredAt)}` : '—'),
        h('dt', {}, 'Registered'), h('dd', {}, formatInstant(p.registeredAt))));
    complaintsSection.replaceChildren(
      h('h3', { id: 'complaints-heading' }, 'Open complaints'),
      p.openComplaints.length === 0
        ? h('p', { class: 'muted' }, 'No open complaint.')
        : h('ul', { class: 'complaints' }, ...p.openComplaints.map((c) => complaintItem(c))));
    followUpsSection.replaceChildren(
      h('h3', { id: 'follow-ups-heading' }, 'Follow-ups'),
      p.openFollowUps.length === 0
        ? h('p', { class: 'muted' }, 'No open follow-up.')
        : h('ul', {}, ...p.openFollowUps.map((f) => {
          const due = Date.parse(f.dueAt) <= Date.now();
          const done = h('button', { type: 'button', class: 'small' }, 'Complete');
          const problem = problemArea();
          done.addEventListener('click', () => void run(api.completeFollowUp(customerId, f.followUpId), problem));
          return h('li', { class: due ? 'due' : '' }, due ? h('strong', {}, 'Due ') : 'Upcoming ', time(f.dueAt), ` ${f.reason} (${f.ownerId}) `, done, problem);
        })),
      scheduleFollowUpForm());
  };

  /** After a command: redraw from read models that have applied its position (the Api passes it as minPosition). */
  const refresh = async (): Promise<void> => {
    const [p] = await Promise.all([api.customer(customerId), timeline.reload()]);
    drawProfile(p);
  };
  const run = async (command: Promise<CommandResult>, problem: HTMLElement, form?: HTMLFormElement): Promise<void> => {
    clearProblem(problem);
    try {
      await command;
      form?.reset();
      await refresh();
    } catch (error) {
      showProblem(problem, error);
    }
  };

  function complaintItem(c: ProfileComplaint): HTMLElement {
    const deadline = nextDeadline(c);
    const message = h('textarea', { name: 'message', rows: '2', required: true, maxlength: '10000' });
    const problem = problemArea();
    const form = h('form', { class: 'inline', 'aria-label': `Answer complaint ${c.complaintId}` },
      field('Reply to the customer', message),
      h('button', { type: 'submit' }, 'Respond'),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'resolve' }, 'Resolve'),
      problem);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void run(api.respondToComplaint(c.complaintId, message.value.trim()), problem, form);
    });
    form.querySelector('[data-action=resolve]')?.addEventListener('click', () => {
      void run(api.resolveComplaint(c.complaintId, message.value.trim() || 'Resolved'), problem, form);
    });
    return h('li', { class: c.breached ? 'breached' : '' },
      h('p', {},
        h('strong', {}, `${c.priority} complaint`), ` · ${c.status} · filed ${formatInstant(c.filedAt)} `,
        c.breached ? h('span', { class: 'badge danger' }, 'SLA breached') : null),
      deadline ? h('p', {}, slaClock(deadline)) : null,
      form);
  }

  function scheduleFollowUpForm(): HTMLElement {
    const due = h('input', { name: 'dueAt', type: 'datetime-local', required: true });
    const reason = h('input', { name: 'reason', required: true, maxlength: '1000' });
    const problem = problemArea();
    const { section, form } = namedForm('Schedule a follow-up', field('Due', due), field('Reason', reason), problem,
      h('button', { type: 'submit' }, 'Schedule follow-up'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const dueAt = new Date(due.value); // datetime-local is the agent's local time
      void run(api.scheduleFollowUp(customerId, { dueAt: Number.isNaN(dueAt.getTime()) ? due.value : dueAt.toISOString(), reason: reason.value.trim() }), problem, form);
    });
    section.classList.remove('card');
    return section;
  }

  const contactForm = (): HTMLElement => {
    const channel = select('channel', CHANNELS, 'phone');
    const direction = select('direction', DIRECTIONS, 'outbound');
    const purpose = select('purpose', PURPOSES, 'sales');
    const summary = h('textarea', { name: 'summary', rows: '3', required: true, maxlength: '5000' });
    const outcome = h('input', { name: 'outcome', required: true, maxlength: '500' });
    const complaint = h('input', { name: 'complaintId', autocomplete: 'off' });
    const problem = problemArea();
    const { section, form } = namedForm('Log a contact',
      h('div', { class: 'row' }, field('Channel', channel), field('Direction', direction), field('Purpose', purpose)),
      field('Summary', summary), field('Outcome', outcome),
      field('Complaint id', complaint, 'Optional: a reply to an open complaint is never blocked by the contact policy.'),
      problem,
      h('button', { type: 'submit' }, 'Log contact'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void run(api.logContact(customerId, {
        channel: channel.value, direction: direction.value, purpose: purpose.value, summary: summary.value.trim(), outcome: outcome.value.trim(),
        ...(complaint.value.trim() ? { complaintId: complaint.value.trim() } : {}),
      }), problem).then(() => {
        // Kept: the channel, direction and purpose an agent logs in a row are usually the same.
        if (problem.hidden) { summary.value = ''; outcome.value = ''; }
      });
    });
    return section;
  };

  const complaintForm = (): HTMLElement => {
    const channel = select('channel', CHANNELS, 'phone');
    const priority = select('priority', PRIORITIES, 'P2');
    const category = h('input', { name: 'category', required: true, maxlength: '200' });
    const description = h('textarea', { name: 'description', rows: '3', required: true, maxlength: '10000' });
    const problem = problemArea();
    const { section, form } = namedForm('File a complaint',
      h('div', { class: 'row' }, field('Channel', channel), field('Priority', priority)),
      field('Category', category), field('Description', description), problem,
      h('button', { type: 'submit' }, 'File complaint'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void run(api.fileComplaint({
        customerId, channel: channel.value, priority: priority.value, category: category.value.trim(), description: description.value.trim(),
      }), problem, form);
    });
    return section;
  };

  drawProfile(profile);
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/search' }, '← Back to search')),
    heading,
    h('div', { class: 'columns' },
      h('div', {}, profileSection, complaintsSection, followUpsSection),
      h('div', {}, contactForm(), complaintForm())),
    timeline.section);
  await timeline.reload();
}

/** The timeline, newest first; older pages load when the end of the list scrolls into view, or with the button. */
function timelineSection(session: Session, customerId: string): { section: HTMLElement; reload: () => Promise<void> } {
  const { api } = session;
  const list = h('ol', { class: 'timeline', 'aria-label': 'Timeline entries' });
  const more = h('button', { type: 'button', class: 'secondary' }, 'Load older entries');
  const status = h('p', { class: 'muted', role: 'status' });
  const problem = problemArea();
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const section = h('section', { class: 'card', 'aria-labelledby': 'timeline-heading' },
    h('h3', { id: 'timeline-heading' }, 'Timeline'), list, sentinel, status, problem, more);
  let cursor: string | null = null;
  let loading: Promise<void> | undefined;
  /** Bumped by reload, so that a page requested before it is dropped rather than appended to the fresh list. */
  let generation = 0;

  const load = async (fresh: boolean): Promise<void> => {
    const mine = fresh ? ++generation : generation;
    clearProblem(problem);
    try {
      const page = await api.timeline(customerId, fresh ? undefined : cursor ?? undefined, TIMELINE_PAGE);
      if (mine !== generation) return;
      const items = page.items.map(entryItem);
      if (fresh) list.replaceChildren(...items);
      else list.append(...items);
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      status.textContent = cursor === null ? `${list.children.length} entries, the whole history.` : `${list.children.length} entries shown.`;
    } catch (error) {
      showProblem(problem, error);
    }
  };
  const loadMore = (): void => {
    if (loading || cursor === null) return;
    loading = load(false).finally(() => {
      loading = undefined;
      // The observer fires on changes only: a short page leaves the end in view, so keep filling the screen.
      if (sentinel.getBoundingClientRect().top < window.innerHeight + 200) loadMore();
    });
  };
  more.addEventListener('click', loadMore);
  new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) loadMore(); }, { rootMargin: '200px' }).observe(sentinel);
  return { section, reload: () => load(true) };
}

function entryItem(entry: TimelineEntry): HTMLElement {
  return h('li', { 'data-position': String(entry.position) },
    time(entry.occurredAt), ' ',
    h('span', { class: 'badge' }, entry.type), ' ',
    h('span', { class: 'summary' }, entry.summary),
    entry.actor ? h('span', { class: 'muted' }, ` by ${entry.actor.id}`) : null,
    typeof entry.data?.['summary'] === 'string' ? h('q', {}, entry.data['summary']) : null);
}
