import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { CHANNELS, PRIORITIES, SLA_KINDS } from '@crm/domain';
import type { BreachFields, FollowUpFields } from '@crm/read-models';

const ID = '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f';
const AT = '2026-11-23T10:00:00.000Z';

@ApiSchema({ name: 'SlaBreachMark' })
export class SlaBreachMarkView {
  @ApiProperty({ enum: SLA_KINDS, example: 'first-response' }) kind!: string;
  @ApiProperty({ format: 'date-time', example: AT }) dueAt!: string;
}

/** An escalation step recorded on a complaint (issue 16). */
@ApiSchema({ name: 'ComplaintEscalation' })
export class ComplaintEscalationView {
  @ApiProperty({ description: 'The step name in the SLA policy', example: 'warn-supervisor' }) step!: string;
  @ApiProperty({ enum: SLA_KINDS, example: 'resolution' }) kind!: string;
  @ApiProperty({ type: 'integer', description: 'Share of the target elapsed when the step is due (100: the breach)', example: 75 }) atPercent!: number;
  @ApiProperty({ description: 'A role, or `owner`', example: 'supervisor' }) notify!: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:00:00.000Z' }) dueAt!: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-25T16:00:04.000Z' }) escalatedAt!: string;
  @ApiProperty({ enum: PRIORITIES, description: 'The priority the step was measured under', example: 'P2' }) priority!: string;
}

/** A complaint on the board (analysts see category and description redacted). */
@ApiSchema({ name: 'Complaint' })
export class ComplaintView {
  @ApiProperty({ example: ID }) complaintId!: string;
  @ApiProperty({ example: '01936f1e-0000-7000-8000-000000000001' }) customerId!: string;
  @ApiProperty({ type: String, nullable: true, example: 'agent-ana' }) ownerId!: string | null;
  @ApiProperty({ enum: ['filed', 'responded', 'resolved', 'closed'], example: 'filed' }) status!: string;
  @ApiProperty({ description: 'Not resolved and not closed', example: true }) open!: boolean;
  @ApiProperty({ enum: PRIORITIES, example: 'P2' }) priority!: string;
  @ApiProperty({ enum: CHANNELS, example: 'email' }) channel!: string;
  @ApiProperty({ example: 'delivery' }) category!: string;
  @ApiProperty({ example: 'The parcel arrived damaged' }) description!: string;
  @ApiProperty({ format: 'date-time', example: AT }) filedAt!: string;
  @ApiProperty({ example: 'sla-2026-01' }) slaPolicyVersion!: string;
  @ApiProperty({ format: 'date-time', description: 'The first-response SLA clock runs until then', example: '2026-11-23T14:00:00.000Z' })
  firstResponseDueAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:00.000Z' }) resolutionDueAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) firstRespondedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the first-response clock stopped' }) firstResponseMetAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) resolvedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) closedAt!: string | null;
  @ApiProperty({ example: false }) resolvedAtFirstContact!: boolean;
  @ApiProperty({ type: 'integer', example: 0 }) reopenCount!: number;
  @ApiProperty({ description: 'At least one SLA deadline was missed', example: false }) breached!: boolean;
  @ApiProperty({ type: [SlaBreachMarkView] }) breaches!: SlaBreachMarkView[];
  @ApiProperty({ type: 'integer', description: 'Log position of the last event applied to this complaint', example: 1040 }) lastPosition!: number;
  @ApiProperty({ description: 'Waiting for the customer (POST /complaints/{id}/await-customer until resumed)', example: false }) paused!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the current wait began; null when not waiting', example: null })
  pausedSince!: string | null;

  @ApiProperty({ description: 'The current wait stopped the SLA clocks (the policy lists awaiting-customer in pauseWhen)', example: false })
  clocksStopped!: boolean;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'SLA minutes the waits took off the clocks, the current one included', example: 0 })
  pausedMinutes!: number;

  @ApiProperty({ enum: PRIORITIES, description: 'The priority at filing (`priority` is the current one)', example: 'P2' }) filingPriority!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'How many times the priority changed', example: 0 }) priorityChanges!: number;
  @ApiProperty({ description: 'At least one escalation step was recorded', example: false }) escalated!: boolean;
  @ApiProperty({ type: [ComplaintEscalationView], description: 'Every escalation recorded, oldest first' }) escalations!: ComplaintEscalationView[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the next escalation step is due; null when none (or the clocks are stopped)', example: '2026-11-25T16:00:00.000Z' })
  nextEscalationAt!: string | null;
}

@ApiSchema({ name: 'ComplaintDetail' })
export class ComplaintDetailView extends ComplaintView {
  @ApiProperty({ example: ID }) id!: string;
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}

@ApiSchema({ name: 'ComplaintBoard' })
export class ComplaintBoard {
  @ApiProperty({ type: [ComplaintView], description: 'Newest filed first' }) items!: ComplaintView[];
  @ApiProperty({ type: 'integer', example: 1 }) total!: number;
  @ApiProperty({ type: 'integer', example: 50 }) limit!: number;
  @ApiProperty({ type: 'integer', example: 0 }) offset!: number;
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}

/** A breach document's fields (the sla_breaches projection's BreachFields) and what the query derives from them. */
@ApiSchema({ name: 'SlaBreach' })
export class SlaBreachView implements BreachFields {
  @ApiProperty({ example: ID }) complaintId!: string;
  @ApiProperty({ example: '01936f1e-0000-7000-8000-000000000001' }) customerId!: string;
  @ApiProperty({ type: String, nullable: true, example: 'agent-ana' }) ownerId!: string | null;
  @ApiProperty({ enum: PRIORITIES, example: 'P1' }) priority!: string;
  @ApiProperty({ enum: SLA_KINDS, example: 'first-response' }) kind!: string;
  @ApiProperty({ format: 'date-time', example: AT }) dueAt!: string;
  @ApiProperty({ format: 'date-time', example: AT }) breachedAt!: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-23T10:00:05.000Z' }) detectedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the late response or resolution came' }) metAt!: string | null;
  @ApiProperty({ example: true }) stillOpen!: boolean;
  @ApiProperty({ type: 'integer', description: 'Until metAt, else until now', example: 42 }) minutesLate!: number;
}

@ApiSchema({ name: 'SlaBreachList' })
export class SlaBreachList {
  @ApiProperty({ type: [SlaBreachView], description: 'Latest breach first' }) items!: SlaBreachView[];
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}

/** A follow-up document's fields (the follow_ups projection's FollowUpFields) and what the query derives from them. */
@ApiSchema({ name: 'FollowUp' })
export class FollowUpView implements FollowUpFields {
  @ApiProperty({ example: ID }) followUpId!: string;
  @ApiProperty({ example: '01936f1e-0000-7000-8000-000000000001' }) customerId!: string;
  @ApiProperty({ description: 'The current owner: a customer hand-over (PUT /customers/{id}/owner, moveOpenWork) moves it', example: 'agent-ana' })
  ownerId!: string;

  @ApiProperty({ format: 'date-time', example: AT }) dueAt!: string;
  @ApiProperty({ example: 'Call back about the refund' }) reason!: string;
  @ApiProperty({ type: String, nullable: true }) complaintId!: string | null;
  @ApiProperty({ enum: ['open', 'completed', 'cancelled'], example: 'open' }) status!: FollowUpFields['status'];
  @ApiProperty({ format: 'date-time', example: AT }) scheduledAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) closedAt!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The completion note or cancellation reason' }) note!: string | null;
  @ApiProperty({ type: 'integer', example: 1040 }) lastPosition!: number;
  @ApiProperty({ description: 'Open and due before now', example: false }) overdue!: boolean;
}

@ApiSchema({ name: 'FollowUpList' })
export class FollowUpList {
  @ApiProperty({ type: [FollowUpView], description: 'Earliest due first' }) items!: FollowUpView[];
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}
