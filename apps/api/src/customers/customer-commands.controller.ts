import { Body, Controller, HttpCode, Inject, Patch, Post, Put, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiCommand, ApiProblems } from '../http/openapi/api-decorators';
import type { CustomerCommand } from '@crm/domain';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { businessTime } from '../commands/business-time';
import { Ctx, newEntityId } from '../commands/command-context.decorator';
import type { CommandContext } from '../commands/command-executor';
import { assertMayActFor } from '../commands/self-service';
import { commandCreated, type CommandResponse } from '../http/command-response';
import { CLOCK, type Clock } from '@crm/runtime';
import { IdParam } from '../http/id-param';
import {
  AssignOwnerDto, CancelFollowUpDto, ChangeCustomerProfileDto, CompleteFollowUpDto, ContactPreferencesDto, LogContactDto,
  RegisterCustomerDto, ScheduleFollowUpDto,
} from './customer.dto';
import { ExecuteCustomerCommand } from './customer-command.handler';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';

@ApiTags('customers')
@ApiBearerAuth()
@UseGuards(IdempotencyGuard)
@Controller('customers')
@Roles('agent', 'admin')
export class CustomerCommandsController {
  constructor(
    private readonly bus: CommandBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private async run(command: CustomerCommand, context: CommandContext, id: string, location: string, occurredAt?: string): Promise<CommandResponse> {
    const outcome = await this.bus.execute(new ExecuteCustomerCommand(command, context, occurredAt));
    return commandCreated(outcome, id, location);
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a prospect or customer' })
  @ApiCommand({ ifMatch: false }) @ApiProblems('customer-already-exists')
  register(@Body() dto: RegisterCustomerDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const customerId = dto.id ?? newEntityId(ctx, this.clock);
    const { id: _id, ...rest } = dto;
    return this.run({ type: 'RegisterCustomer', data: { ...rest, customerId } }, ctx, customerId, `/customers/${customerId}`);
  }

  @Patch(':id')
  @HttpCode(201)
  @Roles('agent', 'admin', 'customer')
  @ApiOperation({ summary: 'Change name, e-mail or phone (null clears e-mail/phone)' })
  @ApiCommand() @ApiProblems('customer-not-found', 'customer-erased', 'no-change')
  changeProfile(
    @IdParam('id') id: string, @Body() dto: ChangeCustomerProfileDto, @Ctx() ctx: CommandContext, @CurrentPrincipal() who: Principal,
  ): Promise<CommandResponse> {
    assertMayActFor(who, id);
    return this.run({ type: 'ChangeCustomerProfile', data: { customerId: id, ...dto } }, ctx, id, `/customers/${id}`);
  }

  @Post(':id/convert')
  @HttpCode(201)
  @ApiOperation({ summary: 'Convert a prospect into a customer' })
  @ApiCommand() @ApiProblems('customer-not-found', 'customer-erased', 'already-a-customer')
  convert(@IdParam('id') id: string, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    return this.run({ type: 'ConvertProspect', data: { customerId: id } }, ctx, id, `/customers/${id}`);
  }

  @Put(':id/owner')
  @HttpCode(201)
  @ApiOperation({ summary: 'Assign the one owner of this customer (and, unless moveOpenWork is false, its open complaints and follow-ups)' })
  @ApiCommand() @ApiProblems('customer-not-found', 'customer-erased', 'owner-unchanged')
  assignOwner(@IdParam('id') id: string, @Body() dto: AssignOwnerDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    // One person answers for all of a customer's issues (the seeds), so the open work follows the owner by default.
    const data = { customerId: id, ownerId: dto.ownerId, reason: dto.reason, moveOpenWork: dto.moveOpenWork ?? true };
    return this.run({ type: 'AssignCustomerOwner', data }, ctx, id, `/customers/${id}`);
  }

  @Put(':id/contact-preferences')
  @HttpCode(201)
  @Roles('agent', 'admin', 'customer')
  @ApiOperation({ summary: 'Set contact frequency cap, do-not-contact and accepted channels' })
  @ApiCommand() @ApiProblems('customer-not-found', 'customer-erased', 'no-change')
  setPreferences(
    @IdParam('id') id: string, @Body() dto: ContactPreferencesDto, @Ctx() ctx: CommandContext, @CurrentPrincipal() who: Principal,
  ): Promise<CommandResponse> {
    assertMayActFor(who, id);
    return this.run({ type: 'SetContactPreferences', data: { customerId: id, ...dto } }, ctx, id, `/customers/${id}`);
  }

  @Post(':id/contacts')
  @HttpCode(201)
  @ApiOperation({ summary: 'Log a contact (outbound contacts are subject to the contact policy)' })
  @ApiCommand() @ApiProblems('customer-not-found', 'customer-erased', 'contact-cap-exceeded', 'complaint-not-found', 'complaint-not-of-customer')
  logContact(@IdParam('id') id: string, @Body() dto: LogContactDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const contactId = newEntityId(ctx, this.clock);
    const occurredAt = businessTime(dto.occurredAt, this.clock.now());
    return this.run(
      { type: 'LogContact', data: { ...dto, customerId: id, contactId, occurredAt, agentId: ctx.principal.id } },
      ctx, contactId, `/customers/${id}/contacts/${contactId}`, occurredAt,
    );
  }

  @Post(':id/follow-ups')
  @HttpCode(201)
  @ApiOperation({ summary: 'Schedule a follow-up' })
  @ApiCommand() @ApiProblems('customer-not-found', 'customer-erased', 'complaint-not-found')
  scheduleFollowUp(@IdParam('id') id: string, @Body() dto: ScheduleFollowUpDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const followUpId = newEntityId(ctx, this.clock);
    const dueAt = new Date(dto.dueAt).toISOString();
    return this.run(
      { type: 'ScheduleFollowUp', data: { ...dto, dueAt, customerId: id, followUpId, actorId: ctx.principal.id } },
      ctx, followUpId, `/customers/${id}/follow-ups/${followUpId}`,
    );
  }

  @Post(':id/follow-ups/:followUpId/complete')
  @HttpCode(201)
  @ApiOperation({ summary: 'Complete a follow-up' })
  @ApiCommand() @ApiProblems('customer-not-found', 'customer-erased', 'follow-up-not-found', 'follow-up-closed')
  completeFollowUp(
    @IdParam('id') id: string, @IdParam('followUpId') followUpId: string, @Body() dto: CompleteFollowUpDto, @Ctx() ctx: CommandContext,
  ): Promise<CommandResponse> {
    return this.run({ type: 'CompleteFollowUp', data: { customerId: id, followUpId, ...dto } }, ctx, followUpId,
      `/customers/${id}/follow-ups/${followUpId}`);
  }

  @Post(':id/follow-ups/:followUpId/cancel')
  @HttpCode(201)
  @ApiOperation({ summary: 'Cancel a follow-up' })
  @ApiCommand() @ApiProblems('customer-not-found', 'customer-erased', 'follow-up-not-found', 'follow-up-closed')
  cancelFollowUp(
    @IdParam('id') id: string, @IdParam('followUpId') followUpId: string, @Body() dto: CancelFollowUpDto, @Ctx() ctx: CommandContext,
  ): Promise<CommandResponse> {
    return this.run({ type: 'CancelFollowUp', data: { customerId: id, followUpId, ...dto } }, ctx, followUpId,
      `/customers/${id}/follow-ups/${followUpId}`);
  }
}
