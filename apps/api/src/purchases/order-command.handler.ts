import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { customerStream, DomainError, orderStream, type OrderCommand } from '@crm/domain';
import { CommandExecutor, type CommandContext, type CommandOutcome } from '../commands/command-executor';
import { CUSTOMER_DECIDER, ORDER_DECIDER, type CustomerDecider, type OrderDecider } from '@crm/runtime';

export class ExecuteOrderCommand extends Command<CommandOutcome> {
  constructor(
    readonly command: OrderCommand,
    readonly context: CommandContext,
    readonly occurredAt?: string,
  ) {
    super();
  }
}

/** Purchases belong to a registered customer (prospect or customer); returns to a recorded purchase. */
@CommandHandler(ExecuteOrderCommand)
export class OrderCommandHandler implements ICommandHandler<ExecuteOrderCommand, CommandOutcome> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CUSTOMER_DECIDER) private readonly customers: CustomerDecider,
    @Inject(ORDER_DECIDER) private readonly orders: OrderDecider,
  ) {}

  async execute({ command, context, occurredAt }: ExecuteOrderCommand): Promise<CommandOutcome> {
    if (command.type === 'RecordPurchase') {
      const { state } = await this.executor.load(customerStream(command.data.customerId), this.customers);
      if (!state.exists) {
        throw new DomainError('customer-not-found', `Customer ${command.data.customerId} not found`, {
          customerId: command.data.customerId,
        });
      }
      if (state.erasedAt !== undefined) {
        throw new DomainError('customer-erased', `Customer ${command.data.customerId} was erased`, { customerId: command.data.customerId });
      }
      if (state.mergedInto !== undefined) {
        throw new DomainError('customer-merged', `Customer ${command.data.customerId} was merged into ${state.mergedInto}`, {
          customerId: command.data.customerId, survivorId: state.mergedInto,
        });
      }
    }
    return this.executor.execute({
      streamId: orderStream(command.data.orderId),
      decider: this.orders,
      command,
      context,
      occurredAt,
    });
  }
}
