import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiIdQuery, ApiInstantQuery, ApiProblems } from '../http/openapi/api-decorators';
import { AuditExportLineView } from './history.responses';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { EVENT_STORE, readLogForwards, type EventStore, type RecordedEvent } from '@crm/event-store';
import { READ_MODEL_STORE, type ReadModelStore } from '@crm/read-models';
import { chainHash, CLOCK, GENESIS, type AuditSigner, type Clock } from '@crm/runtime';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { ID_PATTERN } from '../customers/customer.dto';
import { problems } from '../http/problem';
import { instantParam } from '../queries/query-params';
import { ReadModelGate } from '../read-side/read-model-gate';
import { auditView, customerTrail } from './audit-trail.controller';

export const AUDIT_SIGNER = Symbol('AuditSigner');

/** A signed, hash-chained NDJSON export of a customer's trail or of the whole log in a time range. */
@ApiTags('history')
@ApiBearerAuth()
@Controller('audit')
export class AuditExportController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    private readonly gate: ReadModelGate,
    @Inject(AUDIT_SIGNER) private readonly signer: AuditSigner,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('export')
  @Roles('auditor', 'admin')
  @ApiProduces('application/x-ndjson')
  @ApiOperation({ summary: 'Tamper-evident export: each line hash-chained to the previous, an Ed25519-signed digest last' })
  @ApiResponse({ status: 200, type: AuditExportLineView, description: 'One line per AuditExportLine (application/x-ndjson): header, events, signed digest' })
  @ApiProblems('customer-not-found', 'read-model-behind', 'store-unavailable')
  @ApiIdQuery('customerId', 'Only this customer\'s trail (else the whole log)', '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f')
  @ApiInstantQuery('from', 'Recorded at or after') @ApiInstantQuery('to', 'Recorded before')
  async export(
    @Query('customerId') customerId: string | undefined,
    @Query('from') fromParam: string | undefined,
    @Query('to') toParam: string | undefined,
    @CurrentPrincipal() who: Principal,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (customerId !== undefined && !ID_PATTERN.test(customerId)) {
      throw problems.validation([{ field: 'customerId', messages: ['customerId is not a valid id'] }]);
    }
    const from = instantParam(fromParam, 'from');
    const to = instantParam(toParam, 'to');
    const inRange = (e: RecordedEvent): boolean => (!from || e.recordedAt >= from) && (!to || e.recordedAt < to);
    const source: AsyncIterable<RecordedEvent> = customerId
      ? toAsync((await customerTrail(this.store, this.readModels, this.gate, customerId)).filter(inRange))
      : this.scan(inRange, to);
    const header = {
      kind: 'header', seq: 0, format: 'crm-audit-export', version: 1, customerId: customerId ?? null, from: from ?? null, to: to ?? null,
      exportedAt: this.clock.now().toISOString(), exportedBy: { id: who.id, role: who.role }, keyId: this.signer.keyId,
    };
    const signer = this.signer;
    async function* lines(): AsyncGenerator<string> {
      let prevHash = GENESIS;
      const emit = (line: Record<string, unknown>): string => {
        const body = { ...line, prevHash };
        const hash = chainHash(prevHash, body);
        prevHash = hash;
        return `${JSON.stringify({ ...body, hash })}\n`;
      };
      yield emit(header);
      let seq = 0;
      for await (const e of source) yield emit({ kind: 'event', seq: ++seq, event: auditView(e) });
      yield `${JSON.stringify({ kind: 'digest', count: seq, lastHash: prevHash, keyId: signer.keyId, publicKey: signer.publicKeyPem, signature: signer.sign(seq, prevHash) })}\n`;
    }
    void reply.type('application/x-ndjson').header('content-disposition', 'attachment; filename="audit-export.ndjson"').send(Readable.from(lines()));
  }

  private async *scan(inRange: (e: RecordedEvent) => boolean, to: string | undefined): AsyncGenerator<RecordedEvent> {
    for await (const e of readLogForwards(this.store)) {
      if (to && e.recordedAt >= to) return;
      if (inRange(e)) yield e;
    }
  }
}

async function* toAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
