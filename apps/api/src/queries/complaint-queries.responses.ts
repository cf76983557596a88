import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { CHANNELS, PRIORITIES, SLA_KINDS } from '@crm/domain';

const ID = '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f';
const AT = '2026-11-23T10:00:00.000Z';

@ApiSchema({ name: 'SlaBreachMark' })
export class SlaBreachMarkView {
  @ApiProperty({ enum: SLA_KINDS, example: 'first-response' }) kind!: string;
  @ApiProperty({ format: 'date-time', example: AT }) dueAt!: string;
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

@ApiSchema({ name: 'SlaBreach' })
export class SlaBreachView {
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

@ApiSchema({ name: 'FollowUp' })
export class FollowUpView {
  @ApiProperty({ example: ID }) followUpId!: string;
  @ApiProperty({ example: '01936f1e-0000-7000-8000-000000000001' }) customerId!: string;
  @ApiProperty({ example: 'agent-ana' }) ownerId!: string;
  @ApiProperty({ format: 'date-time', example: AT }) dueAt!: string;
  @ApiProperty({ example: 'Call back about the refund' }) reason!: string;
  @ApiProperty({ type: String, nullable: true }) complaintId!: string | null;
  @ApiProperty({ enum: ['open', 'completed', 'cancelled'], example: 'open' }) status!: string;
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
