import { Body, Controller, HttpCode, Inject, Post, Put, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiCommand, ApiProblems } from '../http/openapi/api-decorators';
import { CurrentPrincipal, Roles, type Principal } from '../auth/principal';
import { businessTime } from '../commands/business-time';
import { Ctx, newEntityId } from '../commands/command-context.decorator';
import type { CommandContext } from '../commands/command-executor';
import { assertMayActFor, refuseStaffOnlyFields } from '../commands/self-service';
import { commandCreated, type CommandResponse } from '../http/command-response';
import { IdParam } from '../http/id-param';
import { CLOCK, type Clock } from '@crm/runtime';
import {
  AwaitCustomerDto, ChangeComplaintOwnerDto, ChangeComplaintPriorityDto, CloseComplaintDto, ResumeComplaintDto, FileComplaintDto, ReopenComplaintDto, ResolveComplaintDto, RespondToComplaintDto,
} from './complaint.dto';
import { ExecuteComplaintCommand, type ComplaintCommandInput } from './complaint-command.handler';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';

@ApiTags('complaints')
@ApiBearerAuth()
@UseGuards(IdempotencyGuard)
@Controller('complaints')
@Roles('agent', 'admin')
export class ComplaintCommandsController {
  constructor(
    private readonly bus: CommandBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private async run(command: ComplaintCommandInput, ctx: CommandContext, occurredAt?: string): Promise<CommandResponse> {
    const outcome = await this.bus.execute(new ExecuteComplaintCommand(command, ctx, occurredAt));
    const id = command.data.complaintId;
    return commandCreated(outcome, id, `/complaints/${id}`);
  }

  @Post()
  @HttpCode(201)
  @Roles('agent', 'admin', 'customer')
  @ApiOperation({ summary: 'File a complaint; SLA deadlines are computed from the SLA policy in force' })
  @ApiCommand({ ifMatch: false }) @ApiProblems('customer-not-found', 'complaint-already-exists', 'field-not-allowed')
  file(@Body() dto: FileComplaintDto, @Ctx() ctx: CommandContext, @CurrentPrincipal() who: Principal): Promise<CommandResponse> {
    assertMayActFor(who, dto.customerId);
    // A chosen id would also tell a customer whether someone else's complaint exists (409 vs 201).
    refuseStaffOnlyFields(who, dto, ['id', 'occurredAt', 'resolvedAtFirstContact']);
    const now = this.clock.now();
    const complaintId = dto.id ?? newEntityId(ctx, this.clock);
    const occurredAt = businessTime(dto.occurredAt, now);
    const { id: _id, occurredAt: _at, resolvedAtFirstContact, ...rest } = dto;
    return this.run(
      { type: 'FileComplaint', data: { ...rest, complaintId, occurredAt, resolvedAtFirstContact: resolvedAtFirstContact ?? false } },
      ctx, occurredAt,
    );
  }

  @Post(':id/respond')
  @HttpCode(201)
  @ApiOperation({ summary: 'Respond to the customer (the first response stops the first-response SLA clock)' })
  @ApiCommand() @ApiProblems('complaint-not-found', 'complaint-closed')
  respond(@IdParam('id') id: string, @Body() dto: RespondToComplaintDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const occurredAt = businessTime(dto.occurredAt, this.clock.now());
    return this.run({ type: 'RespondToComplaint', data: { complaintId: id, message: dto.message, responderId: ctx.principal.id, occurredAt } }, ctx, occurredAt);
  }

  @Post(':id/resolve')
  @HttpCode(201)
  @ApiOperation({ summary: 'Resolve the complaint' })
  @ApiCommand() @ApiProblems('complaint-not-found', 'complaint-closed', 'complaint-already-resolved')
  resolve(@IdParam('id') id: string, @Body() dto: ResolveComplaintDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const occurredAt = businessTime(dto.occurredAt, this.clock.now());
    return this.run({ type: 'ResolveComplaint', data: { complaintId: id, resolution: dto.resolution, occurredAt } }, ctx, occurredAt);
  }

  @Post(':id/reopen')
  @HttpCode(201)
  @ApiOperation({ summary: 'Reopen a resolved complaint (a new resolution deadline starts)' })
  @ApiCommand() @ApiProblems('complaint-not-found', 'complaint-closed', 'complaint-not-reopenable')
  reopen(@IdParam('id') id: string, @Body() dto: ReopenComplaintDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const occurredAt = businessTime(dto.occurredAt, this.clock.now());
    return this.run({ type: 'ReopenComplaint', data: { complaintId: id, reason: dto.reason, occurredAt } }, ctx, occurredAt);
  }

  @Post(':id/close')
  @HttpCode(201)
  @ApiOperation({ summary: 'Close a resolved complaint' })
  @ApiCommand() @ApiProblems('complaint-not-found', 'complaint-closed', 'complaint-not-resolved')
  close(@IdParam('id') id: string, @Body() dto: CloseComplaintDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const occurredAt = businessTime(dto.occurredAt, this.clock.now());
    return this.run({ type: 'CloseComplaint', data: { complaintId: id, occurredAt } }, ctx, occurredAt);
  }

  @Put(':id/owner')
  @HttpCode(201)
  @ApiOperation({ summary: 'Reassign the complaint to another owner, with a reason' })
  @ApiCommand() @ApiProblems('complaint-not-found', 'complaint-closed', 'owner-unchanged')
  changeOwner(@IdParam('id') id: string, @Body() dto: ChangeComplaintOwnerDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    return this.run({ type: 'ChangeComplaintOwner', data: { complaintId: id, ...dto } }, ctx);
  }

  @Post(':id/await-customer')
  @HttpCode(201)
  @ApiOperation({ summary: 'Wait for the customer: the SLA clocks stop (when the policy says so) until it resumes' })
  @ApiCommand() @ApiProblems('complaint-not-found', 'complaint-not-pausable', 'complaint-already-paused')
  awaitCustomer(@IdParam('id') id: string, @Body() dto: AwaitCustomerDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const occurredAt = businessTime(dto.occurredAt, this.clock.now());
    return this.run({ type: 'AwaitCustomer', data: { complaintId: id, reason: dto.reason, occurredAt } }, ctx, occurredAt);
  }

  @Post(':id/resume')
  @HttpCode(201)
  @ApiOperation({ summary: 'End the wait for the customer: the deadlines move out by the time waited' })
  @ApiCommand() @ApiProblems('complaint-not-found', 'complaint-not-paused')
  resume(@IdParam('id') id: string, @Body() dto: ResumeComplaintDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const occurredAt = businessTime(dto.occurredAt, this.clock.now());
    return this.run({ type: 'ResumeComplaint', data: { complaintId: id, reason: dto.reason ?? null, occurredAt, trigger: 'agent' } }, ctx, occurredAt);
  }

  @Post(':id/priority')
  @HttpCode(201)
  @ApiOperation({ summary: "Change the priority: the running clocks measure the new priority's targets from filing, less paused time" })
  @ApiCommand() @ApiProblems('complaint-not-found', 'complaint-closed', 'priority-unchanged')
  changePriority(@IdParam('id') id: string, @Body() dto: ChangeComplaintPriorityDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const occurredAt = businessTime(dto.occurredAt, this.clock.now());
    return this.run({ type: 'ChangeComplaintPriority', data: { complaintId: id, priority: dto.priority, reason: dto.reason, occurredAt } }, ctx, occurredAt);
  }
}
