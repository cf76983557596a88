import { Body, Controller, Get, HttpCode, Inject, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { checkSlaPolicy, SLA_POLICIES_STREAM, type SlaPolicyDecider } from '@crm/domain';
import { SLA_POLICY_BOOK, SLA_POLICY_DECIDER, type SlaPolicyStreamBook } from '@crm/runtime';
import { Roles } from '../auth/principal';
import { Ctx } from '../commands/command-context.decorator';
import { CommandExecutor, type CommandContext } from '../commands/command-executor';
import { CommandResponse } from '../http/command-response';
import { problems } from '../http/problem';
import { fieldErrors } from '../http/policy-problems';
import { ApiCommand, ApiOk, ApiProblems } from '../http/openapi/api-decorators';
import { IdempotencyGuard } from '../idempotency/idempotency.guard';
import { SlaPoliciesView, SlaPolicyPublishedView } from './sla-policies.responses';

/** What GET /sla/policies and PUT /sla/policies show of a version besides the policy itself. */
const SERVER_FIELDS = ['source', 'publishedAt', 'publishedBy'];

/**
 * SLA policies as versioned data (issue 16): the configured policy, then every version published through PUT, the
 * newest in force for complaints filed (or reopened) from then on. A complaint keeps the version it was filed under.
 */
@ApiTags('sla')
@ApiBearerAuth()
@UseGuards(IdempotencyGuard)
@Controller('sla/policies')
export class SlaPoliciesController {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(SLA_POLICY_BOOK) private readonly book: SlaPolicyStreamBook,
    @Inject(SLA_POLICY_DECIDER) private readonly decider: SlaPolicyDecider,
  ) {}

  @Get()
  @Roles('agent', 'analyst', 'auditor', 'admin')
  @ApiOperation({
    summary: 'The SLA policy in force and every version, newest first: { current, versions, revision }',
    description: 'Each version is the policy plus `source` ("published" or "configuration"), `publishedAt` and `publishedBy` '
      + '(null for the configured policy, which is in force until a version is published). `revision` is the revision of the '
      + 'sla-policies stream (-1 when nothing is published); send it as If-Match with PUT to publish only on top of what you read.',
  })
  @ApiOk(SlaPoliciesView, 'The version in force and every version')
  @ApiProblems('store-unavailable')
  async list(): Promise<SlaPoliciesView> {
    await this.book.refresh();
    const versions = this.book.versions();
    const [current] = versions;
    if (!current) throw new Error('the configured SLA policy is always a version');
    return { current, versions, revision: this.book.revision };
  }

  @Put()
  @HttpCode(201)
  @Roles('admin')
  @ApiBody({
    description: 'A whole new version: { version, timezone?, businessHours?, holidays?, targets: { P1..P4: { firstResponseMinutes, '
      + 'resolutionMinutes, calendar?: "24x7"|"business" } }, pauseWhen?, escalations? } (docs/event-catalogue.md). The version '
      + 'must be new. source, publishedAt and publishedBy are set by the server (ignored when sent back from GET).',
    schema: { type: 'object', required: ['version', 'targets'], properties: { version: { type: 'string' }, targets: { type: 'object' } } },
  })
  @ApiOperation({ summary: 'Publish a new SLA policy version (admin); it applies to complaints filed from now on. 201 with the stored version' })
  @ApiCommand({ type: SlaPolicyPublishedView, etag: true, location: '/sla/policies', description: 'Published: the stored version with the stream revision (also the ETag) and the log position' })
  @ApiProblems('policy-version-exists')
  async publish(@Body() body: unknown, @Ctx() ctx: CommandContext): Promise<CommandResponse> {
    const checked = checkSlaPolicy(body, { unknownFields: 'refuse', ignoredFields: SERVER_FIELDS });
    if (!checked.policy) throw problems.validation(fieldErrors(checked.problems));
    const { policy } = checked;
    const outcome = await this.executor.execute({
      streamId: SLA_POLICIES_STREAM,
      decider: this.decider,
      command: { type: 'PublishSlaPolicy', data: { policy, publishedBy: ctx.principal.id } },
      context: ctx,
    });
    await this.book.refresh();
    const stored = this.book.versions().find((v) => v.version === policy.version);
    return new CommandResponse(
      201,
      { etag: `"${outcome.streamRevision}"`, location: '/sla/policies' },
      { ...stored, streamRevision: outcome.streamRevision, position: outcome.position },
    );
  }
}
