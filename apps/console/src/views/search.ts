import type { CustomerSummary } from '../api.js';
import { field, h, namedForm, select } from '../dom.js';
import type { Session } from '../session.js';
import { clearProblem, problemArea, showProblem } from '../problem-view.js';

/** Typing pauses this long before the API is asked, so a fast typist sends one query, not one per key. */
const SEARCH_DEBOUNCE_MS = 250;

export function renderSearch(session: Session): void {
  const { api, me, main } = session;
  const query = h('input', { type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false' });
  const searchProblem = problemArea();
  const results = h('ul', { class: 'results' });
  const resultsStatus = h('p', { role: 'status', class: 'muted' });
  const searchForm = h('form', { role: 'search', class: 'search' },
    field('Search customers', query, 'Name, e-mail or phone. Accents and case do not matter: "zemaite" finds Žemaitė.'),
    h('button', { type: 'submit' }, 'Search'));
  let latest = 0;
  const runSearch = async (): Promise<void> => {
    const q = query.value.trim();
    const ticket = ++latest;
    clearProblem(searchProblem);
    if (!q) {
      results.replaceChildren();
      resultsStatus.textContent = '';
      return;
    }
    try {
      const found = await api.searchCustomers(q);
      if (ticket !== latest) return; // an older answer arriving after a newer query
      results.replaceChildren(...found.items.map(resultItem));
      resultsStatus.textContent = found.items.length === 0 ? `No customer matches "${q}".` : `${found.items.length} found.`;
    } catch (error) {
      if (ticket === latest) showProblem(searchProblem, error);
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void runSearch(), SEARCH_DEBOUNCE_MS);
  });
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    void runSearch();
  });

  const name = h('input', { name: 'name', required: true, maxlength: '200', autocomplete: 'off' });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'off' });
  const phone = h('input', { name: 'phone', type: 'tel', autocomplete: 'off' });
  const kind = select('kind', ['customer', 'prospect'], 'customer');
  const owner = h('input', { name: 'ownerId', value: me.role === 'agent' ? me.id : '' });
  const createProblem = problemArea();
  const create = namedForm('New customer',
    field('Name', name), field('E-mail', email), field('Phone', phone), field('Kind', kind), field('Owner', owner, 'Agent id; empty leaves the customer unowned.'),
    createProblem,
    h('button', { type: 'submit' }, 'Create customer'));
  create.form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearProblem(createProblem);
    void api.registerCustomer({
      name: name.value.trim(),
      kind: kind.value === 'prospect' ? 'prospect' : 'customer',
      ...(email.value.trim() ? { email: email.value.trim() } : {}),
      ...(phone.value.trim() ? { phone: phone.value.trim() } : {}),
      ...(owner.value.trim() ? { ownerId: owner.value.trim() } : {}),
    }).then((created) => { location.hash = `#/customers/${encodeURIComponent(created.id)}`; }, (error: unknown) => showProblem(createProblem, error));
  });

  main.replaceChildren(
    h('h2', {}, 'Customers'),
    h('section', { class: 'card' }, searchForm, searchProblem, resultsStatus, results),
    create.section,
  );
  query.focus();
}

function resultItem(customer: CustomerSummary): HTMLElement {
  const contact = [customer.email, customer.phone].filter(Boolean).join(' · ');
  return h('li', {},
    h('a', { href: `#/customers/${encodeURIComponent(customer.id)}` }, customer.name),
    contact ? h('span', { class: 'muted' }, ` ${contact}`) : null,
    h('span', { class: 'badge' }, customer.status),
    customer.openComplaintCount > 0 ? h('span', { class: 'badge warn' }, `${customer.openComplaintCount} open complaint(s)`) : null);
}
