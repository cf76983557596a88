import { Api, ProblemError } from './api.js';
import { clear, field, h } from './dom.js';
import { clearProblem, problemArea, showProblem } from './problem-view.js';
import type { Session } from './session.js';
import { startClocks } from './sla-clock.js';
import { renderComplaintBoard } from './views/complaints.js';
import { renderCustomer } from './views/customer.js';
import { renderFollowUps } from './views/follow-ups.js';
import { renderSearch } from './views/search.js';


/**
 * The token lives in sessionStorage: it survives a reload of the tab but not closing it, and no other tab or site
 * reads it. The console never sees a password; agents paste the token their administrator issued (docs/security.md).
 */
const TOKEN_KEY = 'crm-console-token';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
let session: Session | undefined;

function renderSignIn(message?: unknown): void {
  nav.hidden = true;
  who.textContent = '';
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false' });
  const problem = problemArea();
  const form = h('form', { 'aria-labelledby': 'sign-in-heading', class: 'card narrow' },
    h('h2', { id: 'sign-in-heading' }, 'Sign in'),
    h('p', {}, 'Paste the API token your administrator gave you. It is kept in this tab only.'),
    field('API token', token),
    problem,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearProblem(problem);
    void signIn(token.value.trim()).then((error) => { if (error !== undefined) showProblem(problem, error); });
  });
  main.replaceChildren(form);
  if (message !== undefined) showProblem(problem, message);
  token.focus();
}

/** Checks the token with GET /me; answers the refusal, if any. */
async function signIn(token: string): Promise<unknown> {
  if (!token) return new Error('Paste a token first');
  const api = new Api(token);
  try {
    const me = await api.me();
    sessionStorage.setItem(TOKEN_KEY, token);
    session = { api, me, main };
    nav.hidden = false;
    who.textContent = `Signed in as ${me.id} (${me.role})`;
    if (!location.hash || location.hash === '#/sign-in') location.hash = '#/search';
    else void route();
    return undefined;
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    return error;
  }
}

function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  session = undefined;
  location.hash = '#/sign-in';
  renderSignIn();
}

async function route(): Promise<void> {
  if (!session) return;
  const hash = location.hash.replace(/^#/, '') || '/search';
  // Views are #/…; another fragment (the skip link's #main) is a jump within the page, not a new view.
  if (!hash.startsWith('/')) return;
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#${hash}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  clear(main);
  const customer = /^\/customers\/([^/]+)$/.exec(hash);
  try {
    if (customer?.[1]) await renderCustomer(session, decodeURIComponent(customer[1]));
    else if (hash === '/complaints') await renderComplaintBoard(session);
    else if (hash === '/follow-ups') await renderFollowUps(session);
    else renderSearch(session);
  } catch (error) {
    if (error instanceof ProblemError && error.problem.status === 401) {
      signOut();
      return;
    }
    const area = problemArea();
    main.replaceChildren(h('h2', {}, 'This view could not be loaded'), area);
    showProblem(area, error);
  }
  // Move focus to the new view's heading, as a page load would, so keyboard and screen-reader users know it changed.
  main.querySelector<HTMLElement>('h2')?.setAttribute('tabindex', '-1');
  if (document.activeElement === document.body || !main.contains(document.activeElement)) main.querySelector<HTMLElement>('h2')?.focus();
}

nav.querySelector('#sign-out')?.addEventListener('click', signOut);
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => void route());
startClocks();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  void signIn(saved).then((error) => { if (error !== undefined) renderSignIn(error); });
} else {
  renderSignIn();
}
