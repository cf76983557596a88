import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/principal';
import { Ctx } from '../commands/command-context.decorator';
import type { CommandContext } from '../commands/command-executor';
import { commandCreated, type CommandResponse } from '../http/command-response';
import { IdParam } from '../http/id-param';
import { ApiCommand, ApiProblems } from '../http/openapi/api-decorators';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';
import { MergeCustomersDto } from './merge-customers.dto';
import { MergeCustomersService } from './merge-customers.service';

/** Merge and unmerge of duplicate customers; `:id` is the survivor, and the answer is the survivor's append. */
@ApiTags('customers')
@ApiBearerAuth()
@UseGuards(IdempotencyGuard)
@Controller('customers')
@Roles('agent', 'admin')
export class MergeCommandsController {
  constructor(private readonly merges: MergeCustomersService) {}

  @Post(':id/merge')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Fold a duplicate into this customer (the survivor): its history shows under the survivor from now on; '
      + 'commands to the duplicate answer 409 customer-merged with the survivor\'s id',
    description: 'The answer is the survivor\'s append (its revision and log position); If-Match names the survivor\'s revision.',
  })
  @ApiCommand()
  @ApiProblems('customer-not-found', 'merge-into-self', 'merge-customer-erased', 'merge-chain', 'customer-merged')
  async merge(@IdParam('id') id: string, @Body() dto: MergeCustomersDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const outcome = await this.merges.merge(id, dto.duplicateId, dto.reason, ctx);
    return commandCreated(outcome, id, `/customers/${id}`);
  }

  @Post(':id/unmerge')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Split a merged duplicate off this survivor: both read as if the merge had never happened',
    description: 'The answer is the survivor\'s append (its revision and log position); If-Match names the survivor\'s revision.',
  })
  @ApiCommand()
  @ApiProblems('customer-not-found', 'not-merged', 'merge-customer-erased')
  async unmerge(@IdParam('id') id: string, @Body() dto: MergeCustomersDto, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const outcome = await this.merges.unmerge(id, dto.duplicateId, dto.reason, ctx);
    return commandCreated(outcome, id, `/customers/${id}`);
  }
}
