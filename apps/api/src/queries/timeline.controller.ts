import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiIntQuery, ApiProblems, ApiReadModel, ApiStringQuery } from '../http/openapi/api-decorators';
import { TimelinePage, type TimelineEntryView } from './timeline.responses';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import {
  customerMergesProjection, customerTimelineProjection, groupIds, mergeAliasOf, physicalCollection, projectInMemory, READ_MODEL_STORE, TIMELINE_ENTRIES,
  timelineSummary, type Query as DocQuery, type ReadModelStore, type TimelineEntryDoc,
} from '@crm/read-models';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { assertMayActFor } from '../commands/self-service';
import { IdParam } from '../http/id-param';
import { problems } from '../http/problem';
import { ReadModelGate } from '../read-side/read-model-gate';
import { SealedFields } from '../read-side/sealed-fields';
import { intParam, MinPosition } from './query-params';
import { customerEventsAsOf } from './time-travel';

const ENTRIES = physicalCollection(customerTimelineProjection, TIMELINE_ENTRIES);
const TYPES = new Set(customerTimelineProjection.eventTypes);

const encodeCursor = (sortKey: string): string => Buffer.from(sortKey, 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+Z\|\d{16}$/.test(key)) {
    throw problems.validation([{ field: 'cursor', messages: ['cursor is not one this API gave out'] }]);
  }
  return key;
}

@ApiTags('customers')
@ApiBearerAuth()
@Controller('customers')
export class TimelineController {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    private readonly gate: ReadModelGate,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly sealed: SealedFields,
  ) {}

  @Get(':id/timeline')
  @Roles('agent', 'admin', 'auditor', 'customer')
  @ApiOperation({ summary: 'Every contact, complaint step, purchase, return, follow-up and owner change, newest first' })
  @ApiReadModel(TimelinePage) @ApiProblems('customer-not-found')
  @ApiStringQuery('cursor', { description: 'nextCursor of the previous page' }) @ApiIntQuery('limit', { min: 1, max: 500, default: 50 })
  @ApiStringQuery('types', { description: `Comma-separated event types: ${customerTimelineProjection.eventTypes.join(', ')}`, example: 'ContactLogged,PurchaseRecorded' })
  @ApiQuery({
    name: 'asOf', required: false, description: 'A log position (digits) or a time: the timeline as it was then, computed from the log',
    schema: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date' }, { type: 'string', format: 'date-time' }] },
  })
  async timeline(
    @IdParam('id') id: string,
    @Query('cursor') cursor: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @Query('types') typesParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() who: Principal,
    @Query('asOf') asOf?: string,
  ): Promise<TimelinePage> {
    assertMayActFor(who, id);
    const limit = intParam(limitParam, 'limit', 50, 1, 500);
    const types = typesParam ? typesParam.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    const unknown = types?.filter((t) => !TYPES.has(t)) ?? [];
    if (unknown.length) {
      throw problems.validation([{ field: 'types', messages: [`unknown types: ${unknown.join(', ')}; known: ${[...TYPES].join(', ')}`] }]);
    }
    if (asOf !== undefined) return this.timelineAsOf(id, asOf, { limit, types, cursor });
    const asOfPosition = await this.gate.atLeast(customerTimelineProjection, minPosition);
    await this.gate.atLeast(customerMergesProjection, minPosition);
    // A survivor's timeline has its duplicates' entries too (a duplicate's own stays its own).
    const ids = groupIds(id, await mergeAliasOf(this.store, id));
    const filter: Record<string, DocQuery[string]> = { customerId: ids.length === 1 ? id : { $in: ids } };
    if (types) filter['type'] = { $in: types };
    if (cursor) filter['sortKey'] = { $lt: decodeCursor(cursor) };
    const docs = (await this.store.find(ENTRIES, filter, { sort: [['sortKey', -1]], limit: limit + 1 })) as TimelineEntryDoc[];
    if (docs.length === 0 && !cursor) {
      const any = await this.store.count(ENTRIES, { customerId: id });
      if (any === 0) throw problems.notFound('customer-not-found', `Customer ${id} has no timeline`);
    }
    return { customerId: id, ...(await this.page(docs, limit)), asOfPosition };
  }

  /** The same entries, computed in memory from the customer's events recorded up to the point. */
  private async timelineAsOf(id: string, asOf: string, q: { limit: number; types?: string[]; cursor?: string }): Promise<TimelinePage> {
    const past = await customerEventsAsOf(this.events, this.store, this.gate, id, asOf);
    const entries = [...(projectInMemory(customerTimelineProjection, past.events).get(TIMELINE_ENTRIES)?.values() ?? [])] as TimelineEntryDoc[];
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const docs = entries
      .filter((d) => (!q.types || q.types.includes(d.type)) && (!after || d.sortKey < after))
      .sort((a, b) => (a.sortKey < b.sortKey ? 1 : -1))
      .slice(0, q.limit + 1);
    return { customerId: id, ...(await this.page(docs, q.limit)), asOf: past.at, asOfPosition: past.position };
  }

  /** The entries keep their data sealed: opened for the page (one key lookup), the summaries made from it. */
  private async page(docs: readonly TimelineEntryDoc[], limit: number): Promise<{ items: TimelineEntryView[]; nextCursor: string | null }> {
    const last = docs.slice(0, limit).at(-1);
    return {
      items: toViews(await this.sealed.openEventData(docs.slice(0, limit))),
      nextCursor: docs.length > limit && last ? encodeCursor(last.sortKey) : null,
    };
  }
}

function toViews(docs: readonly TimelineEntryDoc[]): TimelineEntryView[] {
  return docs.map((d) => ({
    eventId: d._id,
    type: d.type,
    summary: timelineSummary(d.type, d.data),
    occurredAt: d.occurredAt,
    recordedAt: d.recordedAt,
    position: d.position,
    streamId: d.streamId,
    actor: d.actor ?? null,
    data: d.data as Record<string, unknown>,
  }));
}
