import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiCommand, ApiProblems } from '../http/openapi/api-decorators';
import { parseMoney } from '@crm/domain';
import { Roles } from '../auth/principal';
import { businessTime } from '../commands/business-time';
import { Ctx, newEntityId } from '../commands/command-context.decorator';
import type { CommandContext } from '../commands/command-executor';
import { commandCreated, type CommandResponse } from '../http/command-response';
import { IdParam } from '../http/id-param';
import { CLOCK, type Clock } from '@crm/runtime';
import { ExecuteOrderCommand } from './order-command.handler';
import { RecordPurchaseDto, RecordReturnDto } from './purchase.dto';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';

@ApiTags('purchases')
@ApiBearerAuth()
@UseGuards(IdempotencyGuard)
@Controller('purchases')
@Roles('agent', 'admin')
export class PurchaseCommandsController {
  constructor(
    private readonly bus: CommandBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Record a purchase (an order with lines); prices are exact decimals' })
  @ApiCommand({ ifMatch: false }) @ApiProblems('customer-not-found', 'order-already-exists', 'invalid-money')
  async record(@Body() dto: RecordPurchaseDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const now = this.clock.now();
    const orderId = dto.orderId ?? newEntityId(ctx, this.clock);
    const occurredAt = businessTime(dto.occurredAt, now);
    const lines = dto.lines.map((l) => ({
      sku: l.sku,
      description: l.description ?? '',
      quantity: l.quantity,
      unitPrice: parseMoney(l.unitPrice, dto.currency),
    }));
    const outcome = await this.bus.execute(
      new ExecuteOrderCommand(
        { type: 'RecordPurchase', data: { orderId, customerId: dto.customerId, occurredAt, currency: dto.currency, lines } },
        ctx,
        occurredAt,
      ),
    );
    return commandCreated(outcome, orderId, `/purchases/${orderId}`);
  }

  @Post(':orderId/returns')
  @HttpCode(201)
  @ApiOperation({ summary: 'Record a return of bought items (never more than was bought)' })
  @ApiCommand() @ApiProblems('order-not-found', 'return-exceeds-purchase', 'invalid-money')
  async recordReturn(
    @IdParam('orderId') orderId: string, @Body() dto: RecordReturnDto, @Ctx() ctx: CommandContext,
  ): Promise<CommandResponse> {
    const now = this.clock.now();
    const returnId = dto.returnId ?? newEntityId(ctx, this.clock);
    const occurredAt = businessTime(dto.occurredAt, now);
    const outcome = await this.bus.execute(
      new ExecuteOrderCommand(
        { type: 'RecordReturn', data: { orderId, returnId, occurredAt, reason: dto.reason, lines: dto.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) } },
        ctx,
        occurredAt,
      ),
    );
    return commandCreated(outcome, returnId, `/purchases/${orderId}/returns/${returnId}`);
  }
}
