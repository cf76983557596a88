import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { complaintStream, customerStream, type CustomerCommand } from '@crm/domain';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../commands/command-executor';
import { COMPLAINT_DECIDER, CUSTOMER_DECIDER, type ComplaintDecider, type CustomerDecider } from '@crm/runtime';

export class ExecuteCustomerCommand extends Command<CommandOutcome> {
  constructor(
    readonly command: CustomerCommand,
    readonly context: CommandContext,
    readonly occurredAt?: string,
  ) {
    super();
  }
}

/**
 * Customer stream commands. A contact or follow-up linked to a complaint needs that complaint's customer and
 * whether it is open (the contact cap never blocks answering an open complaint): read here, decided in the domain.
 */
@CommandHandler(ExecuteCustomerCommand)
export class CustomerCommandHandler implements ICommandHandler<ExecuteCustomerCommand, CommandOutcome> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CUSTOMER_DECIDER) private readonly customers: CustomerDecider,
    @Inject(COMPLAINT_DECIDER) private readonly complaints: ComplaintDecider,
  ) {}

  async execute({ command, context, occurredAt }: ExecuteCustomerCommand): Promise<CommandOutcome> {
    const enriched = await this.withLinkedComplaint(command);
    return this.executor.execute({
      streamId: customerStream(command.data.customerId),
      decider: this.customers,
      command: enriched,
      context,
      occurredAt,
    });
  }

  private async withLinkedComplaint(command: CustomerCommand): Promise<CustomerCommand> {
    if (command.type !== 'LogContact' && command.type !== 'ScheduleFollowUp') return command;
    const complaintId = command.data.complaintId;
    if (complaintId === undefined) return command;
    const { state } = await this.executor.load(complaintStream(complaintId), this.complaints);
    if (!state.exists) return command;
    const linkedComplaint = { customerId: state.customerId, open: state.status !== 'closed' };
    return command.type === 'LogContact'
      ? { ...command, data: { ...command.data, linkedComplaint } }
      : { ...command, data: { ...command.data, linkedComplaint } };
  }
}
