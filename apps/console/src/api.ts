/**
 * A small typed layer over the public HTTP API (DESIGN §5): the bearer token on every request, an Idempotency-Key on
 * every command, problems (RFC 9457) turned into a typed error, and read-your-writes: after a command, queries pass
 * the highest position this session wrote as `minPosition`, so the agent sees what they just did. The generated
 * client (issue 17 item 2) may replace it; the shapes below are the API's responses as the controllers build them.
 */

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  /** The contact policy's rule that refused a contact (`contact-cap-exceeded`). */
  readonly rule?: string;
  readonly errors?: ReadonlyArray<{ readonly field: string; readonly messages: readonly string[] }>;
}

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = 'ProblemError';
  }
}

export interface CommandResult { readonly id: string; readonly streamRevision: number; readonly position: number }

export interface Principal { readonly id: string; readonly role: string; readonly customerId?: string }

export type ComplaintStatus = 'filed' | 'responded' | 'resolved' | 'closed';
export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export const CHANNELS = ['phone', 'email', 'chat', 'visit', 'letter', 'video', 'social', 'self-service'] as const;
export const DIRECTIONS = ['outbound', 'inbound'] as const;
export const PURPOSES = ['sales', 'support', 'follow-up', 'marketing', 'complaint'] as const;

/** A complaint as the customer profile lists it. */
export interface ProfileComplaint {
  readonly complaintId: string;
  readonly priority: string;
  readonly status: ComplaintStatus;
  readonly ownerId: string | null;
  readonly filedAt: string;
  readonly firstResponseDueAt: string;
  readonly resolutionDueAt: string;
  readonly breached: boolean;
  readonly respondedAt: string | null;
}

export interface FollowUp {
  readonly followUpId: string;
  readonly dueAt: string;
  readonly reason: string;
  readonly ownerId: string;
  readonly complaintId: string | null;
  readonly customerId?: string;
  readonly status?: string;
  readonly overdue?: boolean;
}

export interface CustomerSummary {
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  readonly phone: string | null;
  readonly status: 'prospect' | 'customer';
  readonly ownerId: string | null;
  readonly externalRef: string | null;
  readonly registeredAt: string;
  readonly openComplaints: readonly ProfileComplaint[];
  readonly openComplaintCount: number;
  readonly lastContact: { readonly channel: string; readonly direction: string; readonly purpose: string; readonly occurredAt: string } | null;
  readonly contactsLast7Days: number;
  readonly outboundContactsLast7Days: number;
  readonly followUpsDue: readonly FollowUp[];
  readonly openFollowUps: readonly FollowUp[];
}

export interface Loyalty {
  readonly points: number;
  readonly tier: string;
  readonly orders: number;
  readonly returns: number;
  readonly policyVersion: string;
}

export interface TimelineEntry {
  readonly eventId: string;
  readonly type: string;
  readonly summary: string;
  readonly occurredAt: string;
  readonly recordedAt: string;
  readonly position: number;
  readonly actor: { readonly id: string; readonly role: string } | null;
  /** The event's data (a contact's own summary is shown beside the generated one). */
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface TimelinePage { readonly items: readonly TimelineEntry[]; readonly nextCursor: string | null }

/** A complaint on the board (GET /complaints). */
export interface BoardComplaint {
  readonly complaintId: string;
  readonly customerId: string;
  readonly ownerId: string | null;
  readonly status: ComplaintStatus;
  readonly priority: string;
  readonly channel: string;
  readonly category: string;
  readonly filedAt: string;
  readonly firstResponseDueAt: string;
  readonly resolutionDueAt: string;
  readonly firstResponseMetAt: string | null;
  readonly breached: boolean;
}

export interface RegisterCustomer { name: string; email?: string; phone?: string; kind: 'prospect' | 'customer'; ownerId?: string }
export interface LogContact { channel: string; direction: string; purpose: string; summary: string; outcome: string; complaintId?: string }
export interface FileComplaint { customerId: string; channel: string; category: string; priority: string; description: string }

type QueryValue = string | number | boolean | undefined;

/** An Idempotency-Key per command. crypto.randomUUID needs a secure context; an agent may open the console over http. */
function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const isProblem = (body: unknown): body is Problem =>
  typeof body === 'object' && body !== null && typeof (body as { title?: unknown }).title === 'string' && typeof (body as { status?: unknown }).status === 'number';

/** Read-model waits (503 with Retry-After) are retried this often before the problem is shown. */
const QUERY_RETRIES = 3;

export class Api {
  /** The highest log position of this session's own commands (read-your-writes for every later query). */
  private seenPosition = 0;

  constructor(private readonly token: string, private readonly base = '') {}

  me(): Promise<Principal> { return this.get('/me'); }
  searchCustomers(q: string): Promise<{ items: readonly CustomerSummary[] }> { return this.get('/customers', { q, limit: 20 }); }
  customer(id: string): Promise<CustomerSummary> { return this.get(`/customers/${encodeURIComponent(id)}`); }
  loyalty(id: string): Promise<Loyalty> { return this.get(`/customers/${encodeURIComponent(id)}/loyalty`); }
  timeline(id: string, cursor?: string, limit = 20): Promise<TimelinePage> {
    return this.get(`/customers/${encodeURIComponent(id)}/timeline`, { cursor, limit });
  }
  openComplaints(): Promise<{ items: readonly BoardComplaint[]; total: number }> { return this.get('/complaints', { status: 'open', limit: 500 }); }
  followUps(ownerId: string): Promise<{ items: readonly FollowUp[] }> { return this.get('/follow-ups', { ownerId, status: 'open', limit: 500 }); }

  registerCustomer(body: RegisterCustomer): Promise<CommandResult> { return this.command('POST', '/customers', body); }
  logContact(customerId: string, body: LogContact): Promise<CommandResult> {
    return this.command('POST', `/customers/${encodeURIComponent(customerId)}/contacts`, body);
  }
  scheduleFollowUp(customerId: string, body: { dueAt: string; reason: string }): Promise<CommandResult> {
    return this.command('POST', `/customers/${encodeURIComponent(customerId)}/follow-ups`, body);
  }
  completeFollowUp(customerId: string, followUpId: string): Promise<CommandResult> {
    return this.command('POST', `/customers/${encodeURIComponent(customerId)}/follow-ups/${encodeURIComponent(followUpId)}/complete`, {});
  }
  fileComplaint(body: FileComplaint): Promise<CommandResult> { return this.command('POST', '/complaints', body); }
  respondToComplaint(id: string, message: string): Promise<CommandResult> {
    return this.command('POST', `/complaints/${encodeURIComponent(id)}/respond`, { message });
  }
  resolveComplaint(id: string, resolution: string): Promise<CommandResult> {
    return this.command('POST', `/complaints/${encodeURIComponent(id)}/resolve`, { resolution });
  }

  private async get<T>(path: string, query: Record<string, QueryValue> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, String(value));
    if (this.seenPosition > 0) params.set('minPosition', String(this.seenPosition));
    const search = params.toString();
    const url = search ? `${path}?${search}` : path;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send<T>('GET', url);
      } catch (error) {
        // 503 with Retry-After: the read model has not reached our position yet (or a store is briefly away).
        if (!(error instanceof ProblemError) || error.problem.status !== 503 || attempt >= QUERY_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * (attempt + 1)));
      }
    }
  }

  private async command(method: 'POST' | 'PUT' | 'PATCH', path: string, body: unknown): Promise<CommandResult> {
    const result = await this.send<CommandResult>(method, path, body, { 'idempotency-key': newIdempotencyKey() });
    this.seenPosition = Math.max(this.seenPosition, result.position);
    return result;
  }

  private async send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json, application/problem+json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ProblemError({ type: 'network-error', title: 'The API did not answer', status: 0, detail: 'Check the connection and try again.' });
    }
    const parsed: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      throw new ProblemError(isProblem(parsed) ? parsed : { type: 'about:blank', title: response.statusText || 'Request failed', status: response.status });
    }
    return parsed as T;
  }
}
