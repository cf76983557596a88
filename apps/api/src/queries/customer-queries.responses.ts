import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { CHANNELS, PRIORITIES } from '@crm/domain';

const ID = '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f';
const AT = '2026-11-23T10:00:00.000Z';

@ApiSchema({ name: 'ContactPreferences' })
export class ContactPreferencesView {
  @ApiProperty({ type: 'integer', nullable: true, description: 'null: the policy default applies', example: 3 })
  maxContactsPer7Days!: number | null;

  @ApiProperty({ example: false })
  doNotContact!: boolean;

  @ApiProperty({ enum: CHANNELS, isArray: true, description: 'Accepted channels for outbound contact; empty = any' })
  channels!: string[];
}

@ApiSchema({ name: 'ComplaintSummary' })
export class ComplaintSummaryView {
  @ApiProperty({ example: ID })
  complaintId!: string;

  @ApiProperty({ enum: PRIORITIES, example: 'P2' })
  priority!: string;

  @ApiProperty({ enum: ['filed', 'responded', 'resolved', 'closed'], example: 'filed' })
  status!: string;

  @ApiProperty({ type: String, nullable: true, example: 'agent-ana' })
  ownerId!: string | null;

  @ApiProperty({ format: 'date-time', example: AT })
  filedAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-23T14:00:00.000Z' })
  firstResponseDueAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T10:00:00.000Z' })
  resolutionDueAt!: string;

  @ApiProperty({ example: false })
  breached!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  respondedAt!: string | null;

  @ApiPropertyOptional({ description: 'Waiting for the customer; absent until the complaint first waits', example: false })
  paused?: boolean;
}

@ApiSchema({ name: 'LastContact' })
export class LastContactView {
  @ApiProperty({ example: ID }) contactId!: string;
  @ApiProperty({ enum: CHANNELS, example: 'phone' }) channel!: string;
  @ApiProperty({ enum: ['inbound', 'outbound'], example: 'inbound' }) direction!: string;
  @ApiProperty({ example: 'support' }) purpose!: string;
  @ApiProperty({ example: 'resolved' }) outcome!: string;
  @ApiProperty({ format: 'date-time', example: AT }) occurredAt!: string;
}

@ApiSchema({ name: 'OpenFollowUp' })
export class OpenFollowUpView {
  @ApiProperty({ example: ID }) followUpId!: string;
  @ApiProperty({ format: 'date-time', example: AT }) dueAt!: string;
  @ApiProperty({ example: 'Call back about the refund' }) reason!: string;
  @ApiProperty({ example: 'agent-ana' }) ownerId!: string;
  @ApiProperty({ type: String, nullable: true, example: null }) complaintId!: string | null;
}

/** The summary staff see when a customer calls. */
@ApiSchema({ name: 'CustomerSummary' })
export class CustomerSummaryView {
  @ApiProperty({ example: ID }) id!: string;
  @ApiProperty({ example: 'Zoë Ångström' }) name!: string;
  @ApiProperty({ type: String, nullable: true, example: 'zoe@example.com' }) email!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '+44 20 7946 0000' }) phone!: string | null;
  @ApiProperty({ enum: ['prospect', 'customer'], example: 'customer' }) status!: string;
  @ApiProperty({ type: String, nullable: true, example: 'agent-ana' }) ownerId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Id in a source system', example: 'online-retail:14646' }) externalRef!: string | null;
  @ApiProperty({ format: 'date-time', example: AT }) registeredAt!: string;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Revision of the customer stream: send it as If-Match', example: 4 })
  streamRevision!: number | null;

  @ApiProperty({ type: ContactPreferencesView }) contactPreferences!: ContactPreferencesView;
  @ApiProperty({ type: [ComplaintSummaryView], description: 'Filed or responded, not yet resolved' }) openComplaints!: ComplaintSummaryView[];
  @ApiProperty({ type: 'integer', example: 1 }) openComplaintCount!: number;
  @ApiProperty({ type: LastContactView, nullable: true }) lastContact!: LastContactView | null;
  @ApiProperty({ type: 'integer', example: 2 }) contactsLast7Days!: number;
  @ApiProperty({ type: 'integer', example: 1 }) outboundContactsLast7Days!: number;
  @ApiProperty({ type: [OpenFollowUpView], description: 'Open follow-ups due by now' }) followUpsDue!: OpenFollowUpView[];
  @ApiProperty({ type: [OpenFollowUpView] }) openFollowUps!: OpenFollowUpView[];
  @ApiPropertyOptional({
    type: [String],
    description: 'Present on a survivor of merges: the customers merged into it, whose complaints, contacts and follow-ups this summary includes',
    example: ['01936f1e-0000-7000-8000-000000000002'],
  })
  mergedDuplicates?: string[];
}

@ApiSchema({ name: 'CustomerProfile' })
export class CustomerProfileView extends CustomerSummaryView {
  @ApiProperty({ type: 'integer', description: 'The log position this answer reflects', example: 1042 }) asOfPosition!: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'With ?asOf=: the time the answer is as of' }) asOf?: string;
  @ApiPropertyOptional({
    description: 'Present when this customer was merged into another: the survivor to follow (docs/read-models.md, "Merged customers")',
    example: '01936f1e-0000-7000-8000-000000000003',
  })
  mergedInto?: string;
}

@ApiSchema({ name: 'CustomerSearchResult' })
export class CustomerSearchResult {
  @ApiProperty({ type: [CustomerSummaryView] }) items!: CustomerSummaryView[];
  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
}
