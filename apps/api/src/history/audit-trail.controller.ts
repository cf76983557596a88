import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiIntQuery, ApiOk, ApiProblems, ApiStringQuery } from '../http/openapi/api-decorators';
import { AuditEventView, CustomerTrail } from './history.responses';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { customerStream, redactPersonalData } from '@crm/domain';
import { EVENT_STORE, readLogForwards, type EventMetadata, type EventStore, type RecordedEvent } from '@crm/event-store';
import {
  CUSTOMER_STREAMS, customerStreamsProjection, physicalCollection, READ_MODEL_STORE, type CustomerStreamsDoc, type ReadModelStore,
} from '@crm/read-models';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { IdParam } from '../http/id-param';
import { problems } from '../http/problem';
import { intParam, instantParam } from '../queries/query-params';
import { ReadModelGate } from '../read-side/read-model-gate';

const STREAMS = physicalCollection(customerStreamsProjection, CUSTOMER_STREAMS);

export function auditView(e: RecordedEvent, redact = false): AuditEventView {
  // What the log holds, as written: an event of an older writer may lack a field (answered null), never guessed.
  const m = e.metadata as Partial<EventMetadata>;
  return {
    position: e.position,
    streamId: e.streamId,
    revision: e.revision,
    eventId: e.eventId,
    type: e.type,
    occurredAt: m.occurredAt ?? null,
    recordedAt: e.recordedAt,
    actor: m.actor ?? null,
    correlationId: m.correlationId ?? null,
    causationId: m.causationId ?? null,
    schemaVersion: m.schemaVersion ?? null,
    data: redact ? redactPersonalData(e.type, e.data) : e.data,
  };
}

/**
 * The complete, unprojected history of a customer: its own stream and the streams of its complaints and orders,
 * merged in log order. Which streams belong to the customer comes from the customer_streams index, which the trail
 * first lets catch up with the head of the log, so no stream created before the request is missed.
 */
export async function customerTrail(
  store: EventStore,
  readModels: ReadModelStore,
  gate: ReadModelGate,
  customerId: string,
): Promise<RecordedEvent[]> {
  await gate.atLeast(customerStreamsProjection, await store.headPosition());
  const doc = await readModels.get(STREAMS, customerId);
  const streams = [...((doc as CustomerStreamsDoc | undefined)?.streams ?? [])];
  if (!streams.includes(customerStream(customerId))) streams.unshift(customerStream(customerId));
  const all = (await Promise.all(streams.map((s) => store.readStream(s)))).flat();
  if (all.length === 0) throw problems.notFound('customer-not-found', `Customer ${customerId} not found`);
  return all.sort((a, b) => a.position - b.position);
}

@ApiTags('history')
@ApiBearerAuth()
@Controller()
export class AuditTrailController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly gate: ReadModelGate,
  ) {}

  @Get('customers/:id/trail')
  @Roles('auditor', 'admin')
  @ApiOperation({ summary: 'Every event of the customer, its complaints and orders, in log order, with full metadata' })
  @ApiOk(CustomerTrail) @ApiProblems('customer-not-found', 'read-model-behind', 'store-unavailable')
  async trail(@IdParam('id') id: string): Promise<CustomerTrail> {
    const events = await customerTrail(this.store, this.readModels, this.gate, id);
    return { customerId: id, events: events.map((e) => auditView(e)) };
  }

  @Get('events')
  @Roles('analyst', 'auditor', 'admin')
  @ApiProduces('application/x-ndjson')
  @ApiOperation({ summary: 'The global log as NDJSON, from a position (exclusive), optionally filtered; resumable' })
  @ApiResponse({ status: 200, type: AuditEventView, description: 'One AuditEvent per line (application/x-ndjson), in log order' })
  @ApiProblems('store-unavailable')
  @ApiIntQuery('fromPosition', { min: 0, default: 0, description: 'Events after this position (exclusive): resume from the last position read' })
  @ApiStringQuery('types', { description: 'Comma-separated event types', example: 'ContactLogged,ComplaintFiled' })
  @ApiQuery({
    name: 'until', required: false, description: 'A position (inclusive) or a recorded time (exclusive)',
    schema: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date' }, { type: 'string', format: 'date-time' }] },
  })
  @ApiIntQuery('limit', { min: 1 })
  async events(
    @Query('fromPosition') fromParam: string | undefined,
    @Query('types') typesParam: string | undefined,
    @Query('until') untilParam: string | undefined,
    @Query('limit') limitParam: string | undefined,
    @CurrentPrincipal() who: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Analysts replay history without personal data (names, contact details, free text): it is redacted for them.
    const redact = who.role === 'analyst';
    const from = intParam(fromParam, 'fromPosition', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(limitParam, 'limit', Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER);
    const types = typesParam ? typesParam.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    const untilPosition = untilParam && /^\d+$/.test(untilParam) ? Number(untilParam) : undefined;
    const untilTime = untilParam && untilPosition === undefined ? instantParam(untilParam, 'until') : undefined;
    const store = this.store;
    async function* lines(): AsyncGenerator<string> {
      let sent = 0;
      for await (const e of readLogForwards(store, { fromPosition: from, eventTypes: types })) {
        if ((untilPosition !== undefined && e.position > untilPosition) || (untilTime !== undefined && e.recordedAt >= untilTime)) return;
        yield `${JSON.stringify(auditView(e, redact))}\n`;
        if (++sent >= limit) return;
      }
    }
    // Readable.from pulls the generator only as fast as the socket drains: constant memory for any log size.
    void reply.type('application/x-ndjson').send(Readable.from(lines()));
  }
}
