import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator } from 'playwright-core';
import { freePort } from '../support/free-port';
import { makeTempDir } from '../support/temp-dir';

/**
 * The agent console in a real browser (Debian's Chromium, driven by playwright-core) against `npm start`
 * (scripts/start.js: builds what is missing, then runs the API with its embedded projector) on a fresh data dir.
 * An agent signs in with a pasted token, creates a customer, finds them by a spelling without diacritics, logs a
 * contact and sees it in the timeline without a page load, files a complaint and watches its SLA clock count down,
 * answers it, and is refused by the contact policy with the rule named. With CONSOLE_SCREENSHOTS=<dir> (`npm run
 * screenshots`) it also writes PNGs of the main views there.
 *
 * Chromium is required, not optional: without /usr/bin/chromium this fails (CI installs it, see .ci/run) rather than
 * passing without having looked at the console.
 */
const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS ? join(ROOT, process.env.CONSOLE_SCREENSHOTS) : undefined;
/** Letters only and random: no uuid, position, timestamp or generated summary can contain it by chance. */
const RUN = `qz${randomBytes(9).toString('base64url').replace(/[^a-zA-Z]/g, 'x')}`;
/**
 * What the agent types, with the run's marker so that an assertion cannot match anything else. Screenshots (for the
 * README) show the plain text: the data dir is fresh, and this run writes everything in it.
 */
const mark = (text: string): string => (SCREENSHOTS ? text : `${text} ${RUN}`);
const TOKEN = `console-agent-${randomBytes(18).toString('base64url')}`;
const AGENT = 'agent-zofija';
/** The contact policy this test runs under: two outbound contacts per rolling 7 days, so the third is refused. */
const CAP = 2;

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** The API as another client would call it (set-up a browser user would not do by hand). */
async function apiCall(base: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

describe('agent console in Chromium against npm start', () => {
  // A cold `npm start` compiles the API and the console first (about a minute on a busy 2-core machine).
  jest.setTimeout(300_000);
  const tmp = makeTempDir('crm-console-');
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let base = '';
  let output = '';
  const api = (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => apiCall(base, method, path, body);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does, or set CHROMIUM_PATH`);
    }
    const tokensFile = join(tmp.dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify([{ token: TOKEN, id: AGENT, role: 'agent' }]));
    const policyFile = join(tmp.dir, 'contact-policy.json');
    writeFileSync(policyFile, JSON.stringify({ version: `console-test-${RUN}`, windowDays: 7, defaultMaxOutbound: CAP, purposeLimits: {} }));
    const dataDir = join(tmp.dir, 'data');
    mkdirSync(dataDir);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
      cwd: ROOT,
      env: {
        ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, AUTH_TOKENS_FILE: tokensFile,
        CONTACT_POLICY_FILE: policyFile, LOG_LEVEL: 'warn',
        // npm start's projector thread runs below the API (PROJECTOR_THREAD_NICE=10); beside parallel jest suites and
        // Chromium it can be seconds behind, and a read-your-writes query answers 503 after READ_WAIT_MS (2 s).
        READ_WAIT_MS: '30000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-4000); };
    server.stdout?.on('data', keep);
    server.stderr?.on('data', keep);
    const child = server;
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}: ${output}`);
      return fetch(`${base}/health/live`).then((r) => r.ok, () => false);
    }, 240_000, 'npm start to listen');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await exited(server);
    }
    tmp.remove();
  });

  it('serves its files without a token and leaves the API problems as they are', async () => {
    const redirect = await fetch(`${base}/console`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([301, '/console/']);
    const page = await fetch(`${base}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/console/main.js">');
    const missing = await fetch(`${base}/console/${RUN}.js`);
    expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'application/problem+json; charset=utf-8']);
    expect(await missing.json()).toMatchObject({ type: 'route-not-found', status: 404 });
    // The page is public; the API behind it is not.
    expect((await fetch(`${base}/customers?q=x`)).status).toBe(401);
  });

  it('lets an agent find a customer without diacritics, log contacts, file and answer a complaint, and shows the contact cap refusal', async () => {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // What the API answered with an error, for the failure message (a wait that times out says nothing of why).
    const failedCalls: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failedCalls.push(`${new Date().toISOString()} ${response.status()} ${response.request().method()} ${response.url().replace(base, '')}`);
    });
    const shoot = async (name: string): Promise<void> => {
      if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    };
    try {
      // Another customer whose P1 complaint was filed (business time) two hours ago: its one-hour first response is
      // missed, so the SLA watcher records a breach; and a follow-up of the agent's that is already due.
      const other = await api('POST', '/customers', { name: mark('Jonas Petraitis'), kind: 'customer', ownerId: AGENT });
      const late = await api('POST', '/complaints', {
        customerId: other.id, channel: 'email', category: mark('Wrong size'), priority: 'P1', description: 'Sent the wrong size.',
        occurredAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
      });
      await api('POST', `/customers/${String(other.id)}/follow-ups`, { dueAt: new Date(Date.now() - 600_000).toISOString(), reason: mark('Call back about the size') });
      // minPosition: the complaint is on the board before it is asked for (a read right after filing found it missing: 404).
      await waitFor(async () => (await api('GET', `/complaints/${String(late.id)}?minPosition=${String(late.position)}`)).breached === true, 30_000, 'the SLA watcher to record the breach');

      await page.goto(`${base}/console`);
      // By keyboard: the token field has the focus on arrival and Enter submits.
      await page.getByLabel('API token').waitFor();
      // Nothing of the signed-in console shows before sign-in (the navigation would only lead to 401s).
      expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(false);
      await page.keyboard.type(TOKEN);
      await shoot('sign-in');
      await page.keyboard.press('Enter');
      await expectText(page.getByText(`Signed in as ${AGENT} (agent)`), `Signed in as ${AGENT} (agent)`);

      const create = page.getByRole('form', { name: 'New customer' });
      await create.getByLabel('Name').fill('Žemaitė Šimkutė');
      await create.getByLabel('E-mail').fill(`zemaite.${SCREENSHOTS ? 'demo' : RUN}@example.test`);
      await create.getByLabel('Phone').fill('+370 612 34567');
      await create.getByRole('button', { name: 'Create customer' }).click();
      await page.getByRole('heading', { level: 2, name: 'Žemaitė Šimkutė' }).waitFor();
      const customerUrl = page.url();

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Search' }).click();
      // Keyboard: the search box has the focus, Tab reaches its button, and the focus is visibly outlined.
      await page.getByLabel('Search customers').waitFor();
      await page.keyboard.press('Tab');
      const focused = page.locator(':focus');
      expect(await focused.textContent()).toBe('Search');
      // This file is compiled without the DOM library: the browser's getComputedStyle is reached through globalThis.
      type Styles = { getComputedStyle(element: unknown): { outlineStyle: string } };
      expect(await focused.evaluate((element) => (globalThis as unknown as Styles).getComputedStyle(element).outlineStyle)).toBe('solid');
      await page.getByLabel('Search customers').fill('zemaite simkute');
      const result = page.getByRole('link', { name: 'Žemaitė Šimkutė' });
      await result.waitFor();
      await shoot('search');
      await result.click();
      await page.getByRole('heading', { level: 2, name: 'Žemaitė Šimkutė' }).waitFor();
      expect(page.url()).toBe(customerUrl);

      // Set on the window: a page load would lose it, so it proves the timeline was redrawn in place.
      await page.evaluate(() => { (globalThis as unknown as { consoleTestMarker: string }).consoleTestMarker = 'same page'; });
      const timeline = page.getByRole('list', { name: 'Timeline entries' });
      const contact = page.getByRole('form', { name: 'Log a contact' });
      const logContact = async (summary: string): Promise<void> => {
        await contact.getByLabel('Channel').selectOption('phone');
        await contact.getByLabel('Direction').selectOption('outbound');
        await contact.getByLabel('Purpose').selectOption('sales');
        await contact.getByLabel('Summary').fill(summary);
        await contact.getByLabel('Outcome').fill('spoke');
        await contact.getByRole('button', { name: 'Log contact' }).click();
      };
      for (let i = 1; i <= CAP; i++) {
        await logContact(mark(`Offer call ${i}`));
        await expectText(timeline.getByRole('listitem').first(), mark(`Offer call ${i}`));
      }
      expect(await page.evaluate(() => (globalThis as unknown as { consoleTestMarker?: string }).consoleTestMarker)).toBe('same page');

      const complaint = page.getByRole('form', { name: 'File a complaint' });
      await complaint.getByLabel('Priority').selectOption('P2');
      await complaint.getByLabel('Category').fill(mark('Late delivery'));
      await complaint.getByLabel('Description').fill('The parcel came two weeks late.');
      await complaint.getByRole('button', { name: 'File complaint' }).click();
      const open = page.getByRole('region', { name: 'Open complaints' });
      const clock = open.getByRole('timer').first();
      await expectText(clock, /^First response due in \d+h \d+m \d+s$/);
      const first = await clock.textContent();
      // Counting down: the same clock shows a different (smaller) time a second later, with no request in between.
      await waitFor(async () => (await clock.textContent()) !== first, 5000, 'the SLA clock to tick');
      expect(seconds(await clock.textContent())).toBeLessThan(seconds(first));

      // The cap: CAP outbound contacts in the window already, so the next is refused and the rule is named.
      await logContact(mark('Offer call over the cap'));
      const refusal = contact.getByRole('alert');
      await expectText(refusal, 'Contact refused by the contact policy');
      await expectText(refusal, 'rolling-7-day-cap');
      await expectText(refusal, 'contact-cap-exceeded');
      await shoot('customer-360');
      expect(await timeline.textContent()).not.toContain(mark('Offer call over the cap'));

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Complaints' }).click();
      await page.getByRole('heading', { level: 2, name: 'Complaints' }).waitFor();
      const row = page.getByRole('row').filter({ hasText: mark('Late delivery') });
      await expectText(row.getByRole('timer'), /^First response due in /);
      // By due time: the breached complaint (its deadline long past) comes first, marked as breached.
      const breached = page.getByRole('row').nth(1);
      await expectText(breached, mark('Wrong size'));
      await expectText(breached, 'Breached');
      await expectText(breached.getByRole('timer'), /^First response overdue by \d+h \d+m \d+s$/);
      await expectText(breached.getByRole('link'), mark('Jonas Petraitis'));
      await shoot('complaints');

      await page.goBack();
      await page.getByRole('heading', { level: 2, name: 'Žemaitė Šimkutė' }).waitFor();
      await open.getByLabel('Reply to the customer').fill(mark('We are sorry'));
      await open.getByRole('button', { name: 'Respond' }).click();
      // Answered: the first-response clock stops and the resolution clock runs.
      await expectText(open.getByRole('timer').first(), /^Resolution due in /);

      const schedule = page.getByRole('form', { name: 'Schedule a follow-up' });
      await schedule.getByLabel('Due').fill(new Date(Date.now() + 3_600_000).toISOString().slice(0, 16));
      await schedule.getByLabel('Reason').fill(mark('Check the replacement arrived'));
      await schedule.getByRole('button', { name: 'Schedule follow-up' }).click();
      await expectText(page.getByRole('region', { name: 'Follow-ups' }), mark('Check the replacement arrived'));
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Follow-ups' }).click();
      await expectText(page.getByRole('region', { name: 'Upcoming' }), mark('Check the replacement arrived'));
      await expectText(page.getByRole('region', { name: 'Due now' }), mark('Call back about the size'));
      await shoot('follow-ups');

      // Another agent resolves and closes the complaint meanwhile; answering it from the stale view is refused by the
      // complaint's lifecycle, and the console says so in the problem's words.
      const customerId = decodeURIComponent(customerUrl.split('#/customers/')[1] ?? '');
      const board = await api('GET', `/complaints?customerId=${encodeURIComponent(customerId)}&status=open`);
      const complaintId = (board.items as Array<{ complaintId: string }>)[0]?.complaintId ?? '';
      await page.goBack();
      await page.getByRole('heading', { level: 2, name: 'Žemaitė Šimkutė' }).waitFor();
      await api('POST', `/complaints/${complaintId}/resolve`, { resolution: 'Replacement sent' });
      await api('POST', `/complaints/${complaintId}/close`, {});
      await open.getByLabel('Reply to the customer').fill(mark('One more thing'));
      await open.getByRole('button', { name: 'Respond' }).click();
      await expectText(open.getByRole('alert'), 'Complaint is closed');
      await expectText(open.getByRole('alert'), 'complaint-closed');

      // Infinite scroll: more entries than a page (inbound contacts are never capped), newest first, the oldest
      // (the registration) reached by scrolling to the end.
      let last = 0;
      for (let i = 1; i <= 25; i++) {
        const logged = await api('POST', `/customers/${encodeURIComponent(customerId)}/contacts`,
          { channel: 'phone', direction: 'inbound', purpose: 'support', summary: mark(`Inbound call ${i}`), outcome: 'answered' });
        last = Math.max(last, Number(logged.position));
      }
      await api('GET', `/customers/${encodeURIComponent(customerId)}/timeline?limit=1&minPosition=${last}`);
      await page.reload();
      await expectText(timeline.getByRole('listitem').first(), mark('Inbound call 25'));
      expect(await timeline.getByRole('listitem').count()).toBe(20);
      await page.getByRole('heading', { level: 2, name: 'Žemaitė Šimkutė' }).focus();
      await page.keyboard.press('End');
      await expectText(timeline.getByRole('listitem').last(), 'Registered as customer');
      const positions = await timeline.getByRole('listitem').evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-position'))));
      expect(positions.length).toBeGreaterThan(30);
      expect(positions).toEqual([...positions].sort((a, b) => b - a));
      expect(pageErrors).toEqual([]);
    } catch (error) {
      const shown = await page.locator('body').innerText({ timeout: 2000 }).catch((e: unknown) => `(unreadable: ${String(e)})`);
      throw new Error([
        error instanceof Error ? error.message : String(error),
        `page ${page.url()} showed:`, shown.slice(0, 2000),
        'API answers >= 400:', ...failedCalls.slice(-20),
        'server output (tail):', output.slice(-2000),
      ].join('\n'), { cause: error });
    } finally {
      await context.close();
    }
  });
});

/** Waits for a locator's text to contain (or match) the expected text; on timeout, fails with the text it last had. */
async function expectText(locator: Locator, expected: string | RegExp, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let last: string | null = null;
  for (;;) {
    last = await locator.textContent({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => null);
    if (last !== null && (typeof expected === 'string' ? last.includes(expected) : expected.test(last))) return;
    if (Date.now() > deadline) {
      expect(last).toEqual(typeof expected === 'string' ? expect.stringContaining(expected) : expect.stringMatching(expected));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Seconds left on a clock reading "… due in 3h 59m 58s". */
function seconds(text: string | null): number {
  const m = /(?:(\d+)h )?(\d+)m (\d+)s$/.exec(text ?? '');
  if (!m) throw new Error(`not a clock: ${text}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}
