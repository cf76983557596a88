import { Body, Controller, Get, HttpCode, Inject, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  currentLoyaltyPolicy, LOYALTY_POLICY_STREAM, makeLoyaltyPolicyDecider, validateLoyaltyPolicy, type LoyaltyPolicy, type LoyaltyPolicyDecider,
} from '@crm/domain';
import { LOYALTY_POLICY } from '@crm/runtime';
import { Roles } from '../auth/principal';
import { Ctx } from '../commands/command-context.decorator';
import { CommandExecutor, type CommandContext } from '../commands/command-executor';
import { commandCreated, type CommandResponse } from '../http/command-response';
import { problems } from '../http/problem';
import { ApiCommand, ApiOk, ApiProblems } from '../http/openapi/api-decorators';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';
import { LoyaltyPoliciesView } from './loyalty-policies.responses';

const POLICY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['version', 'currency', 'pointsPerUnit', 'tiers', 'rates'],
  properties: {
    version: { type: 'string', example: 'loyalty-2027-01' },
    currency: { type: 'string', example: 'GBP', description: 'The points currency' },
    pointsPerUnit: { type: 'number', example: 1 },
    tiers: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, minPoints: { type: 'integer' } } } },
    rates: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          currency: { type: 'string', example: 'EUR' },
          rate: { type: 'string', example: '0.85', description: 'Units of the points currency per unit of `currency`, a decimal string' },
          from: { type: 'string', format: 'date', example: '2026-01-01', description: 'UTC day from which the rate applies' },
        },
      },
    },
  },
};

/**
 * Loyalty policy versions (issue 16): the `loyalty-policies` stream, read on every request, so every API replica
 * answers with a version as soon as it is appended; the read models apply it in log order (docs/decisions.md).
 */
@ApiTags('loyalty')
@ApiBearerAuth()
@Controller('loyalty/policies')
export class LoyaltyPoliciesController {
  private readonly decider: LoyaltyPolicyDecider;

  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LOYALTY_POLICY) private readonly configured: LoyaltyPolicy,
  ) {
    this.decider = makeLoyaltyPolicyDecider(configured);
  }

  @Get()
  @Roles('agent', 'admin', 'analyst', 'auditor')
  @ApiOperation({ summary: 'The loyalty policy in force and the earlier versions, newest first' })
  @ApiOk(LoyaltyPoliciesView, 'The policy in force and the earlier versions')
  @ApiProblems('store-unavailable')
  async list(): Promise<LoyaltyPoliciesView> {
    const { state, revision } = await this.executor.load(LOYALTY_POLICY_STREAM, this.decider);
    const current = currentLoyaltyPolicy(state, this.configured);
    const published = [...state.published].reverse();
    // The configured policy was in force before the first publication: it is the oldest of the earlier versions.
    const earlier = published.length === 0 ? [] : [...published.slice(1), this.configured];
    return { current, source: published.length === 0 ? 'configured' : 'published', earlier, streamRevision: revision };
  }

  @Put()
  @HttpCode(201)
  @Roles('admin')
  @UseGuards(IdempotencyGuard)
  @ApiBody({ schema: POLICY_SCHEMA })
  @ApiOperation({ summary: 'Publish a whole new loyalty policy version (the shape GET shows as `current`)' })
  @ApiCommand({ location: '/loyalty/policies', description: 'Published: `id` is the version, with the stream revision (also the ETag) and the log position' })
  @ApiProblems('loyalty-policy-version-exists')
  async publish(@Body() body: unknown, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const checked = validateLoyaltyPolicy(body);
    if (!checked.ok) throw problems.validation(checked.errors);
    const outcome = await this.executor.execute({
      streamId: LOYALTY_POLICY_STREAM,
      decider: this.decider,
      command: { type: 'PublishLoyaltyPolicy', data: { policy: checked.policy } },
      context: ctx,
    });
    return commandCreated(outcome, checked.policy.version, '/loyalty/policies');
  }
}
