import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiIntQuery, ApiOk, ApiProblems } from '../http/openapi/api-decorators';
import { StreamEventsPage } from './history.responses';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { Roles } from '../auth/principal';
import { problems } from '../http/problem';
import { intParam } from '../queries/query-params';

const STREAM_ID = /^[A-Za-z][\w.:-]{0,160}$/;
const MAX_LIMIT = 1000;

/** The raw, unprojected history of one stream, with every event's metadata, in stream order. */
@ApiTags('history')
@ApiBearerAuth()
@Controller('streams')
@Roles('agent', 'auditor', 'admin')
export class StreamEventsController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get(':streamId/events')
  @ApiOperation({ summary: 'Events of a stream in order, with metadata (paged by revision)' })
  @ApiOk(StreamEventsPage) @ApiProblems('stream-not-found', 'store-unavailable')
  @ApiIntQuery('fromRevision', { min: 0, default: 0 }) @ApiIntQuery('limit', { min: 0, max: MAX_LIMIT, default: MAX_LIMIT })
  async events(
    @Param('streamId') streamId: string,
    @Query('fromRevision') fromRevision?: string,
    @Query('limit') limit?: string,
  ): Promise<StreamEventsPage> {
    if (!STREAM_ID.test(streamId)) {
      throw problems.validation([{ field: 'streamId', messages: ['streamId must look like customer-<id>'] }]);
    }
    const from = intParam(fromRevision, 'fromRevision', 0, 0, Number.MAX_SAFE_INTEGER);
    const max = intParam(limit, 'limit', MAX_LIMIT, 0, MAX_LIMIT);
    const events = await this.store.readStream(streamId, { fromRevision: from, maxCount: max + 1 });
    if (events.length === 0 && from === 0) throw problems.notFound('stream-not-found', `Stream ${streamId} has no events`);
    const page = events.slice(0, max);
    const last = page.at(-1);
    return {
      streamId,
      events: page.map((e) => ({
        eventId: e.eventId,
        type: e.type,
        revision: e.revision,
        position: e.position,
        recordedAt: e.recordedAt,
        data: e.data,
        metadata: e.metadata,
      })),
      nextFromRevision: events.length > max && last ? last.revision + 1 : null,
    };
  }
}
