import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ActorDto } from '../http/openapi/common-responses.dto';

@ApiSchema({ name: 'TimelineEntry' })
export class TimelineEntryView {
  @ApiProperty({ example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e60' }) eventId!: string;
  @ApiProperty({ description: 'The event type', example: 'ContactLogged' }) type!: string;
  @ApiProperty({ example: 'Inbound phone call (support): resolved' }) summary!: string;
  @ApiProperty({ format: 'date-time', description: 'Business time', example: '2026-11-23T10:00:00.000Z' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When the log recorded it', example: '2026-11-23T10:00:01.000Z' }) recordedAt!: string;
  @ApiProperty({ type: 'integer', example: 1042 }) position!: number;
  @ApiProperty({ example: 'customer-01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' }) streamId!: string;
  @ApiProperty({ type: ActorDto, nullable: true }) actor!: ActorDto | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event data' }) data!: Record<string, unknown>;
}

@ApiSchema({ name: 'TimelinePage' })
export class TimelinePage {
  @ApiProperty({ example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' }) customerId!: string;
  @ApiProperty({ type: [TimelineEntryView], description: 'Newest first' }) items!: TimelineEntryView[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as ?cursor= for the next (older) page; null on the last page' })
  nextCursor!: string | null;

  @ApiProperty({ type: 'integer', example: 1042 }) asOfPosition!: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'With ?asOf=: the time the answer is as of' }) asOf?: string;
}
