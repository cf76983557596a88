import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { SLA_KINDS, WEEKDAYS, type Priority, type SlaPauseState } from '@crm/domain';

const AT = '2026-11-23T10:00:00.000Z';
const PAUSE_STATES: readonly SlaPauseState[] = ['awaiting-customer'];

@ApiSchema({ name: 'SlaTarget' })
export class SlaTargetView {
  @ApiProperty({ type: 'integer', minimum: 1, example: 240 }) firstResponseMinutes!: number;
  @ApiProperty({ type: 'integer', minimum: 1, example: 4320 }) resolutionMinutes!: number;
  @ApiPropertyOptional({ enum: ['24x7', 'business'], description: 'Absent means 24x7', example: 'business' }) calendar?: '24x7' | 'business';
}

@ApiSchema({ name: 'SlaEscalationStep' })
export class SlaEscalationStepView {
  @ApiProperty({ example: 'warn-supervisor' }) name!: string;
  @ApiProperty({ enum: SLA_KINDS, example: 'resolution' }) kind!: string;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100, description: 'Share of the target elapsed (SLA time); 100 is the breach', example: 75 })
  atPercent!: number;

  @ApiProperty({ description: 'A role, or `owner` for the complaint\'s owner', example: 'supervisor' }) notify!: string;
}

@ApiSchema({ name: 'SlaTargets' })
/** One entry per priority (`Record<Priority, SlaTarget>`). */
export class SlaTargetsView implements Record<Priority, SlaTargetView> {
  @ApiProperty({ type: SlaTargetView }) P1!: SlaTargetView;
  @ApiProperty({ type: SlaTargetView }) P2!: SlaTargetView;
  @ApiProperty({ type: SlaTargetView }) P3!: SlaTargetView;
  @ApiProperty({ type: SlaTargetView }) P4!: SlaTargetView;
}

const BUSINESS_HOURS_SCHEMA = {
  type: 'object' as const,
  description: 'Per weekday, [from, to] intervals as HH:MM in `timezone`; a day missing or empty is closed',
  properties: Object.fromEntries(WEEKDAYS.map((day) => [day, {
    type: 'array' as const,
    items: { type: 'array' as const, items: { type: 'string' as const, pattern: '^\\d{2}:\\d{2}$' }, minItems: 2, maxItems: 2 },
  }])),
  example: { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']] },
};

/** A version of the SLA policy as GET /sla/policies lists it: the policy plus who published it and when. */
@ApiSchema({ name: 'SlaPolicyVersion' })
export class SlaPolicyVersionView {
  @ApiProperty({ example: 'sla-2027-01' }) version!: string;
  @ApiPropertyOptional({ description: 'IANA zone of the business hours and holidays', example: 'Europe/London' }) timezone?: string;
  @ApiPropertyOptional(BUSINESS_HOURS_SCHEMA) businessHours?: Partial<Record<string, ReadonlyArray<readonly [string, string]>>>;
  @ApiPropertyOptional({ type: [String], description: 'Dates (YYYY-MM-DD) in `timezone` on which business time does not run', example: ['2026-12-25'] })
  holidays?: readonly string[];

  @ApiProperty({ type: SlaTargetsView, description: 'The targets of each priority' }) targets!: SlaTargetsView;

  @ApiPropertyOptional({ enum: PAUSE_STATES, isArray: true, description: 'Complaint states that stop the clocks', example: ['awaiting-customer'] })
  pauseWhen?: readonly string[];

  @ApiPropertyOptional({ type: [SlaEscalationStepView] }) escalations?: readonly SlaEscalationStepView[];
  @ApiProperty({ enum: ['configuration', 'published'], description: 'configuration: the policy the process was started with', example: 'published' })
  source!: 'configuration' | 'published';

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null for the configured policy', example: AT }) publishedAt!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'null for the configured policy', example: 'admin-ada' }) publishedBy!: string | null;
}

@ApiSchema({ name: 'SlaPolicies' })
export class SlaPoliciesView {
  @ApiProperty({ type: SlaPolicyVersionView, description: 'In force for complaints filed (or reopened) from now on' }) current!: SlaPolicyVersionView;
  @ApiProperty({ type: [SlaPolicyVersionView], description: 'Every version, newest first (current included)' }) versions!: SlaPolicyVersionView[];
  @ApiProperty({ type: 'integer', minimum: -1, description: 'Revision of the sla-policies stream (-1: nothing published): send it as If-Match with PUT', example: 2 })
  revision!: number;
}

/** PUT /sla/policies answers the stored version with the append's revision and position (not the usual CommandResult). */
@ApiSchema({ name: 'SlaPolicyPublished' })
export class SlaPolicyPublishedView extends SlaPolicyVersionView {
  @ApiProperty({ type: 'integer', description: 'Revision of the sla-policies stream after the publication (also the ETag)', example: 3 }) streamRevision!: number;
  @ApiProperty({ type: 'integer', description: 'Global log position of the append: pass it as minPosition to read your write', example: 1042 }) position!: number;
}
