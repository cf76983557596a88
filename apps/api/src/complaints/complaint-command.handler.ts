import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { complaintStream, customerStream, DomainError, type ComplaintCommand } from '@crm/domain';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../commands/command-executor';
import {
  COMPLAINT_DECIDER, CUSTOMER_DECIDER, SLA_POLICY_BOOK, type ComplaintDecider, type CustomerDecider, type SlaPolicyStreamBook,
} from '@crm/runtime';

/** FileComplaint arrives without an owner: the single-owner rule gives it the customer's owner, read here. */
export type ComplaintCommandInput =
  | { type: 'FileComplaint'; data: Omit<Extract<ComplaintCommand, { type: 'FileComplaint' }>['data'], 'ownerId'> }
  | Exclude<ComplaintCommand, { type: 'FileComplaint' }>;

export class ExecuteComplaintCommand extends Command<CommandOutcome> {
  constructor(
    readonly command: ComplaintCommandInput,
    readonly context: CommandContext,
    readonly occurredAt?: string,
  ) {
    super();
  }
}

@CommandHandler(ExecuteComplaintCommand)
export class ComplaintCommandHandler implements ICommandHandler<ExecuteComplaintCommand, CommandOutcome> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CUSTOMER_DECIDER) private readonly customers: CustomerDecider,
    @Inject(COMPLAINT_DECIDER) private readonly complaints: ComplaintDecider,
    @Inject(SLA_POLICY_BOOK) private readonly slaPolicies: SlaPolicyStreamBook,
  ) {}

  async execute({ command, context, occurredAt }: ExecuteComplaintCommand): Promise<CommandOutcome> {
    // The decider applies the current SLA policy (filing, reopening): the one last published by any replica.
    await this.slaPolicies.refresh();
    const full: ComplaintCommand =
      command.type === 'FileComplaint'
        ? { type: 'FileComplaint', data: { ...command.data, ownerId: await this.ownerOf(command.data.customerId) } }
        : command;
    return this.executor.execute({
      streamId: complaintStream(command.data.complaintId),
      decider: this.complaints,
      command: full,
      context,
      occurredAt,
    });
  }

  private async ownerOf(customerId: string): Promise<string | null> {
    const { state } = await this.executor.load(customerStream(customerId), this.customers);
    if (!state.exists) throw new DomainError('customer-not-found', `Customer ${customerId} not found`, { customerId });
    if (state.erasedAt !== undefined) throw new DomainError('customer-erased', `Customer ${customerId} was erased`, { customerId });
    return state.ownerId;
  }
}
