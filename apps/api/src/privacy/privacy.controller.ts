import { Body, Controller, Get, HttpCode, Inject, Optional, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { customerStream, PERSONAL_FIELDS } from '@crm/domain';
import { EVENT_STORE, type EventStore, type KeyStore } from '@crm/event-store';
import {
  complaintsProjection, customerProfilesProjection, customerTimelineProjection, followUpsProjection, type ProjectionControl,
  READ_MODEL_STORE, type ReadModelStore,
} from '@crm/read-models';
import { CLOCK, CUSTOMER_DECIDER, type Clock, type CustomerDecider } from '@crm/runtime';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { Ctx } from '../commands/command-context.decorator';
import { CommandExecutor, type CommandContext } from '../commands/command-executor';
import { assertMayActFor } from '../commands/self-service';
import { ExecuteCustomerCommand } from '../customers/customer-command.handler';
import { auditView, customerTrail } from '../history/audit-trail.controller';
import { IdParam } from '../http/id-param';
import { problems } from '../http/problem';
import { PROJECTION_RUNNER, ReadModelGate } from '../read-side/read-model-gate';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';

export const KEY_STORE = Symbol('KeyStore');

export class EraseCustomerDto {
  @ApiProperty({ description: 'Why (e.g. "GDPR Art. 17 request 2026-11-23 #123")' })
  @IsString() @IsNotEmpty() @MaxLength(1000)
  reason!: string;
}

/** Projections whose documents hold personal data; erasure waits for them, then compacts the read-model files. */
const MASKED = [customerProfilesProjection, customerTimelineProjection, complaintsProjection, followUpsProjection];

@ApiTags('privacy')
@ApiBearerAuth()
@UseGuards(IdempotencyGuard)
@Controller('customers')
export class PrivacyController {
  constructor(
    private readonly bus: CommandBus,
    private readonly executor: CommandExecutor,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(KEY_STORE) private readonly keys: KeyStore,
    @Inject(CUSTOMER_DECIDER) private readonly customers: CustomerDecider,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly gate: ReadModelGate,
    @Optional() @Inject(PROJECTION_RUNNER) private readonly runner?: ProjectionControl,
  ) {}

  @Get(':id/export')
  @Roles('customer', 'admin')
  @ApiOperation({ summary: 'Everything recorded about this customer, decrypted (data portability; self-service)' })
  async export(@IdParam('id') id: string, @CurrentPrincipal() who: Principal): Promise<unknown> {
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
  async erase(@IdParam('id') id: string, @Body() dto: EraseCustomerDto, @Ctx() ctx: CommandContext): Promise<unknown> {
    const { state } = await this.executor.load(customerStream(id), this.customers);
    if (!state.exists) throw problems.notFound('customer-not-found', `Customer ${id} not found`);
    const trail = await customerTrail(this.events, this.readModels, this.gate, id);
    const withPersonalData = trail.filter((e) => (PERSONAL_FIELDS[e.type] ?? []).length > 0);
    const now = this.clock.now();
    const keyDestroyed = this.keys.erase(id, now);
    const fields = Object.fromEntries(Object.entries(PERSONAL_FIELDS).filter(([type]) => withPersonalData.some((e) => e.type === type)).map(([t, f]) => [t, [...f]]));
    const outcome = await this.bus.execute(
      new ExecuteCustomerCommand({ type: 'EraseCustomer', data: { customerId: id, reason: dto.reason, fields } }, ctx),
    );
    const masked: string[] = [];
    const pending: string[] = [];
    for (const p of MASKED) {
      try {
        await this.gate.atLeast(p, outcome.position);
        masked.push(p.name);
      } catch {
        pending.push(p.name);
      }
    }
    // Compacting only helps once every read model has masked; with one still pending the receipt says so.
    const compacted = pending.length === 0 ? await this.readModels.compact() : false;
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
        keyDestroyed,
        fields,
        eventsWithPersonalData: withPersonalData.length,
        streams: [...new Set(trail.map((e) => e.streamId))],
        readModelsMasked: masked,
        readModelsPending: pending,
        readModelFilesCompacted: compacted,
        kept: 'event types, times, owners, amounts, priorities, SLA facts and outcomes',
        embeddedProjector: this.runner !== undefined,
      },
    };
  }
}
