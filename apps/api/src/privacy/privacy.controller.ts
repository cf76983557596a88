import { Body, Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiCommand, ApiOk, ApiProblems } from '../http/openapi/api-decorators';
import { CustomerExportView, ErasureView } from './privacy.responses';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { customerStream } from '@crm/domain';
import { EVENT_STORE, type EventStore } from '@crm/event-store';
import { READ_MODEL_STORE, type ReadModelStore } from '@crm/read-models';
import { CLOCK, CUSTOMER_DECIDER, type Clock, type CustomerDecider } from '@crm/runtime';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { Ctx } from '../commands/command-context.decorator';
import { CommandExecutor, type CommandContext } from '../commands/command-executor';
import { assertMayActFor } from '../commands/self-service';
import { auditView, customerTrail } from '../history/audit-trail.controller';
import { IdParam } from '../http/id-param';
import { problems } from '../http/problem';
import { ReadModelGate } from '../read-side/read-model-gate';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';
import { ErasureService } from './erasure.service';

export { KEY_STORE } from './erasure.service';

export class EraseCustomerDto {
  @ApiProperty({ description: 'Why: a request reference (e.g. "GDPR Art. 17 request 2026-11-23 #123"). Kept in clear as the record of the erasure: it must not describe the customer' })
  @IsString() @IsNotEmpty() @MaxLength(1000)
  reason!: string;
}

@ApiTags('privacy')
@ApiBearerAuth()
@UseGuards(IdempotencyGuard)
@Controller('customers')
export class PrivacyController {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly erasure: ErasureService,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(CUSTOMER_DECIDER) private readonly customers: CustomerDecider,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly gate: ReadModelGate,
  ) {}

  @Get(':id/export')
  @Roles('customer', 'admin')
  @ApiOperation({ summary: 'Everything recorded about this customer, decrypted (data portability; self-service)' })
  @ApiOk(CustomerExportView) @ApiProblems('customer-not-found', 'read-model-behind', 'store-unavailable')
  async export(@IdParam('id') id: string, @CurrentPrincipal() who: Principal): Promise<CustomerExportView> {
    assertMayActFor(who, id);
    const trail = await customerTrail(this.events, this.readModels, this.gate, id);
    return { customerId: id, exportedAt: this.clock.now().toISOString(), events: trail.map((e) => auditView(e)) };
  }

  /**
   * GDPR erasure by crypto-shredding: the customer's key is destroyed first (from then on every personal field of its
   * events reads as "[erased]", in the log and in replays), then CustomerErased is recorded, the read models mask
   * what they had projected, and their files are compacted. The history without personal data stays.
   */
  @Post(':id/erase')
  @HttpCode(201)
  @Roles('admin')
  @ApiOperation({ summary: 'Erase the personal data of a customer (crypto-shredding); returns a receipt' })
  @ApiCommand({ type: ErasureView, description: 'Erased: the command result and a receipt' }) @ApiProblems('customer-not-found', 'customer-erased', 'read-model-behind')
  async erase(@IdParam('id') id: string, @Body() dto: EraseCustomerDto, @Ctx() ctx: CommandContext): Promise<ErasureView> {
    const { state } = await this.executor.load(customerStream(id), this.customers);
    if (!state.exists) throw problems.notFound('customer-not-found', `Customer ${id} not found`);
    const now = this.clock.now();
    const done = await this.erasure.erase(id, dto.reason, ctx);
    const outcome = done.outcome;
    return {
      id,
      streamRevision: outcome.streamRevision,
      position: outcome.position,
      receipt: {
        customerId: id,
        erasedAt: now.toISOString(),
        erasedBy: ctx.principal.id,
        reason: dto.reason,
        method: 'crypto-shredding: the customer key (AES-256-GCM) was destroyed; personal fields read as "[erased]"',
        keyDestroyed: done.keyDestroyed,
        fields: done.fields,
        eventsWithPersonalData: done.eventsWithPersonalData,
        streams: done.streams,
        readModelsMasked: done.masked,
        readModelsPending: done.pending,
        readModelFilesCompacted: done.compacted,
        mergedCustomersErased: done.mergedCustomersErased,
        kept: 'event types, times, owners, amounts, SKUs, priorities, channels and SLA facts',
        embeddedProjector: this.erasure.embeddedProjector,
      },
    };
  }
}
