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

/** The customer commands that may name a complaint they belong to. */
type LinkingCommand = Extract<CustomerCommand, { type: 'LogContact' | 'ScheduleFollowUp' }>;
const mayLinkComplaint = (command: CustomerCommand): command is LinkingCommand =>
  command.type === 'LogContact' || command.type === 'ScheduleFollowUp';

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

  execute({ command, context, occurredAt }: ExecuteCustomerCommand): Promise<CommandOutcome> {
    const run = (enriched: CustomerCommand): Promise<CommandOutcome> => this.executor.execute({
      streamId: customerStream(command.data.customerId),
      decider: this.customers,
      command: enriched,
      context,
      occurredAt,
    });
    // Most commands link no complaint: they go straight to the executor, without an async step that only returns them.
    if (!mayLinkComplaint(command) || command.data.complaintId === undefined) return run(command);
    return this.withLinkedComplaint(command, command.data.complaintId).then(run);
  }

  private async withLinkedComplaint(command: LinkingCommand, complaintId: string): Promise<CustomerCommand> {
    const { state } = await this.executor.load(complaintStream(complaintId), this.complaints);
    if (!state.exists) return command;
    const linkedComplaint = { customerId: state.customerId, open: state.status !== 'closed' };
    return command.type === 'LogContact'
      ? { ...command, data: { ...command.data, linkedComplaint } }
      : { ...command, data: { ...command.data, linkedComplaint } };
  }
}
