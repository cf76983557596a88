import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiIdQuery, ApiIntQuery, ApiProblems, ApiReadModel, ApiStringQuery } from '../http/openapi/api-decorators';
import { CustomerProfileView, CustomerSearchResult, type CustomerSummaryView } from './customer-queries.responses';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import {
  combineProfiles, CUSTOMER_PROFILES, customerMergesProjection, customerProfilesProjection, digitsOnly, mergeAliasesOf,
  mergeAliasOf, normalizeForSearch, physicalCollection, projectInMemory, READ_MODEL_STORE, type Doc, type ProfileDoc,
  type Query as DocQuery, type ReadModelStore,
} from '@crm/read-models';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { assertMayActFor } from '../commands/self-service';
import { IdParam } from '../http/id-param';
import { problems } from '../http/problem';
import { CLOCK, type Clock } from '@crm/runtime';
import { ReadModelGate } from '../read-side/read-model-gate';
import { intParam, MinPosition } from './query-params';
import { customerEventsAsOf } from './time-travel';

const DAY_MS = 86_400_000;
const PROFILES = physicalCollection(customerProfilesProjection, CUSTOMER_PROFILES);

/** The summary staff see when a customer calls: owner, status, open complaints, recent contacts, follow-ups due. */
export function profileSummary(doc: ProfileDoc, now: Date): CustomerSummaryView {
  const weekAgo = now.getTime() - 7 * DAY_MS;
  const lastWeek = doc.recentContacts.filter((c) => Date.parse(c.occurredAt) > weekAgo && Date.parse(c.occurredAt) <= now.getTime());
  return {
    id: doc.customerId,
    name: doc.name,
    email: doc.email,
    phone: doc.phone,
    status: doc.kind,
    ownerId: doc.ownerId,
    externalRef: doc.externalRef,
    registeredAt: doc.registeredAt,
    streamRevision: doc.streamRevision ?? null,
    contactPreferences: doc.preferences,
    openComplaints: doc.complaints.filter((c) => c.status === 'filed' || c.status === 'responded'),
    openComplaintCount: doc.openComplaintCount,
    lastContact: doc.lastContact,
    contactsLast7Days: lastWeek.length,
    outboundContactsLast7Days: lastWeek.filter((c) => c.direction === 'outbound').length,
    followUpsDue: doc.openFollowUps.filter((f) => Date.parse(f.dueAt) <= now.getTime()),
    openFollowUps: doc.openFollowUps,
    ...(Array.isArray(doc.mergedDuplicates) ? { mergedDuplicates: doc.mergedDuplicates } : {}),
  };
}

@ApiTags('customers')
@ApiBearerAuth()
@Controller('customers')
export class CustomerQueriesController {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    private readonly gate: ReadModelGate,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(EVENT_STORE) private readonly events: EventStore,
  ) {}

  @Get()
  @Roles('agent', 'admin', 'auditor')
  @ApiOperation({ summary: 'Find customers by name, e-mail or phone (case and diacritics ignored), source id or owner' })
  @ApiReadModel(CustomerSearchResult)
  @ApiStringQuery('q', { description: 'Name, e-mail or phone (case and diacritics ignored; mostly digits: a phone number). Give q, externalRef or ownerId', example: 'zoe angstrom' })
  @ApiStringQuery('externalRef', { description: 'Id in a source system', example: 'online-retail:14646' })
  @ApiIdQuery('ownerId', 'Customers owned by this agent') @ApiIntQuery('limit', { min: 1, max: 200, default: 20 })
  async search(
    @Query('q') q: string | undefined,
    @Query('externalRef') externalRef: string | undefined,
    @Query('ownerId') ownerId: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
  ): Promise<CustomerSearchResult> {
    const limit = intParam(limitParam, 'limit', 20, 1, 200);
    const asOfPosition = await this.gate.atLeast(customerProfilesProjection, minPosition);
    const filter: Record<string, DocQuery[string]> = {};
    if (q !== undefined && q.trim() !== '') {
      const digits = digitsOnly(q);
      // A query that is mostly digits is a phone number: match it in the digits-only copy.
      filter['searchText'] = { $contains: digits.length >= 5 && digits.length >= q.replace(/\s/g, '').length - 2 ? digits : normalizeForSearch(q) };
    }
    if (externalRef) filter['externalRef'] = externalRef;
    if (ownerId) filter['ownerId'] = ownerId;
    if (Object.keys(filter).length === 0) {
      throw problems.validation([{ field: 'q', messages: ['give q, externalRef or ownerId'] }]);
    }
    await this.gate.atLeast(customerMergesProjection, minPosition);
    const docs = (await this.store.find(PROFILES, filter, { sort: [['name', 1]], limit })) as ProfileDoc[];
    const now = this.clock.now();
    return { items: (await this.throughMerges(docs)).map((d) => profileSummary(d, now)), asOfPosition };
  }

  /**
   * A match on a merged duplicate (its name or e-mail) finds its survivor instead, once; a survivor comes with its
   * duplicates' complaints, contacts and follow-ups. Customers in no merge are answered as they were.
   */
  private async throughMerges(docs: readonly ProfileDoc[]): Promise<ProfileDoc[]> {
    const aliases = await mergeAliasesOf(this.store, docs.map((d) => d.customerId));
    const survivorIds = [...new Set(docs.map((d) => aliases.get(d.customerId)?.mergedInto ?? d.customerId))];
    const groups = await mergeAliasesOf(this.store, survivorIds);
    const needed = survivorIds.flatMap((id) => [id, ...(groups.get(id)?.duplicates ?? [])]);
    const found = new Map<string, Doc>([...docs.map((d): [string, Doc] => [d.customerId, d]), ...await this.store.getMany(PROFILES, needed.filter((id) => !docs.some((d) => d.customerId === id)))]);
    return survivorIds.flatMap((id) => {
      const survivor = found.get(id) as ProfileDoc | undefined;
      if (!survivor) return [];
      const duplicates = (groups.get(id)?.duplicates ?? []).map((d) => found.get(d) as ProfileDoc | undefined).filter((d): d is ProfileDoc => d !== undefined);
      return [withMergedDuplicates(combineProfiles(survivor, duplicates), groups.get(id)?.duplicates ?? [])];
    });
  }

  @Get(':id')
  @Roles('agent', 'admin', 'auditor', 'customer')
  @ApiOperation({ summary: 'Profile summary: owner, status, open complaints, last contact, contacts in 7 days, follow-ups due' })
  @ApiReadModel(CustomerProfileView) @ApiProblems('customer-not-found')
  @ApiQuery({
    name: 'asOf', required: false, description: 'A log position (digits) or a time: the profile as it was then, computed from the log',
    schema: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date' }, { type: 'string', format: 'date-time' }] },
  })
  async profile(
    @IdParam('id') id: string,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() who: Principal,
    @Query('asOf') asOf: string | undefined,
  ): Promise<CustomerProfileView> {
    assertMayActFor(who, id);
    if (asOf !== undefined) {
      const past = await customerEventsAsOf(this.events, this.store, this.gate, id, asOf);
      const doc = projectInMemory(customerProfilesProjection, past.events).get(CUSTOMER_PROFILES)?.get(id);
      if (!doc) throw problems.notFound('customer-not-found', `Customer ${id} did not exist as of ${asOf}`);
      return { ...profileSummary(doc as ProfileDoc, new Date(past.at)), asOf: past.at, asOfPosition: past.position };
    }
    const asOfPosition = await this.gate.atLeast(customerProfilesProjection, minPosition);
    await this.gate.atLeast(customerMergesProjection, minPosition);
    const doc = await this.store.get(PROFILES, id);
    if (!doc) throw problems.notFound('customer-not-found', `Customer ${id} not found`);
    const alias = await mergeAliasOf(this.store, id);
    // A merged duplicate answers 200 with its own profile and where it went (`mergedInto`): a client follows it when it
    // wants to, and sees what was merged (a 308 would be followed silently by fetch and hide that).
    if (alias.mergedInto !== null) return { ...profileSummary(doc as ProfileDoc, this.clock.now()), mergedInto: alias.mergedInto, asOfPosition };
    if (alias.duplicates.length === 0) return { ...profileSummary(doc as ProfileDoc, this.clock.now()), asOfPosition };
    const duplicates = [...(await this.store.getMany(PROFILES, alias.duplicates)).values()] as ProfileDoc[];
    const combined = withMergedDuplicates(combineProfiles(doc as ProfileDoc, duplicates), alias.duplicates);
    return { ...profileSummary(combined, this.clock.now()), asOfPosition };
  }
}

/** Search results name a survivor's duplicates too (the summary itself keeps its shape). */
function withMergedDuplicates(doc: ProfileDoc, duplicates: readonly string[]): ProfileDoc {
  return duplicates.length === 0 ? doc : { ...doc, mergedDuplicates: [...duplicates] };
}

export async function requireCustomer(store: ReadModelStore, id: string): Promise<Doc> {
  const doc = await store.get(PROFILES, id);
  if (!doc) throw problems.notFound('customer-not-found', `Customer ${id} not found`);
  return doc;
}
