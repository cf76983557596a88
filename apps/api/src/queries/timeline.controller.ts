import { Controller, Get, Inject, Query, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  customerTimelineProjection, physicalCollection, READ_MODEL_STORE, TIMELINE_ENTRIES, type Query as DocQuery, type ReadModelStore,
} from '@crm/read-models';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { assertMayActFor } from '../commands/self-service';
import { IdParam } from '../http/id-param';
import { problems } from '../http/problem';
import { ReadModelGate } from '../read-side/read-model-gate';
import { intParam, MinPosition } from './query-params';
import { ReadModelPositionInterceptor } from './read-model-response.interceptor';

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
@UseInterceptors(ReadModelPositionInterceptor)
export class TimelineController {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    private readonly gate: ReadModelGate,
  ) {}

  @Get(':id/timeline')
  @Roles('agent', 'admin', 'auditor', 'customer')
  @ApiOperation({ summary: 'Every contact, complaint step, purchase, return, follow-up and owner change, newest first' })
  @ApiQuery({ name: 'cursor', required: false }) @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'types', required: false, description: 'Comma-separated event types, e.g. ContactLogged,PurchaseRecorded' })
  @ApiQuery({ name: 'minPosition', required: false })
  async timeline(
    @IdParam('id') id: string,
    @Query('cursor') cursor: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @Query('types') typesParam: string | undefined,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() who: Principal,
  ): Promise<unknown> {
    assertMayActFor(who, id);
    const limit = intParam(limitParam, 'limit', 50, 1, 500);
    const types = typesParam ? typesParam.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    const unknown = types?.filter((t) => !TYPES.has(t)) ?? [];
    if (unknown.length) {
      throw problems.validation([{ field: 'types', messages: [`unknown types: ${unknown.join(', ')}; known: ${[...TYPES].join(', ')}`] }]);
    }
    const asOfPosition = await this.gate.atLeast(customerTimelineProjection, minPosition);
    const filter: Record<string, DocQuery[string]> = { customerId: id };
    if (types) filter['type'] = { $in: types };
    if (cursor) filter['sortKey'] = { $lt: decodeCursor(cursor) };
    const docs = await this.store.find(ENTRIES, filter, { sort: [['sortKey', -1]], limit: limit + 1 });
    if (docs.length === 0 && !cursor) {
      const any = await this.store.count(ENTRIES, { customerId: id });
      if (any === 0) throw problems.notFound('customer-not-found', `Customer ${id} has no timeline`);
    }
    const page = docs.slice(0, limit);
    const last = page.at(-1);
    return {
      customerId: id,
      items: page.map((d) => ({
        eventId: d._id,
        type: d['type'],
        summary: d['summary'],
        occurredAt: d['occurredAt'],
        recordedAt: d['recordedAt'],
        position: d['position'],
        streamId: d['streamId'],
        actor: d['actor'],
        data: d['data'],
      })),
      nextCursor: docs.length > limit && last ? encodeCursor(String(last['sortKey'])) : null,
      asOfPosition,
    };
  }
}
