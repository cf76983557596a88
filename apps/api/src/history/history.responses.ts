import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ActorDto } from '../http/openapi/common-responses.dto';

const AT = '2026-11-23T10:00:00.000Z';

@ApiSchema({ name: 'StreamEvent' })
export class StreamEventView {
  @ApiProperty({ example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e60' }) eventId!: string;
  @ApiProperty({ example: 'CustomerRegistered' }) type!: string;
  @ApiProperty({ type: 'integer', example: 0 }) revision!: number;
  @ApiProperty({ type: 'integer', example: 1 }) position!: number;
  @ApiProperty({ format: 'date-time', example: AT }) recordedAt!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data!: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'eventId, correlationId, causationId, actor, occurredAt, schemaVersion' })
  metadata!: Record<string, unknown>;
}

@ApiSchema({ name: 'StreamEvents' })
export class StreamEventsPage {
  @ApiProperty({ example: 'customer-01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' }) streamId!: string;
  @ApiProperty({ type: [StreamEventView] }) events!: StreamEventView[];
  @ApiProperty({ type: 'integer', nullable: true, description: 'Pass as ?fromRevision= for the next page; null on the last' }) nextFromRevision!: number | null;
}

/** One event of the log with its metadata, as the trail, the export and the NDJSON feed give it. */
@ApiSchema({ name: 'AuditEvent' })
export class AuditEventView {
  @ApiProperty({ type: 'integer', example: 1 }) position!: number;
  @ApiProperty({ example: 'customer-01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' }) streamId!: string;
  @ApiProperty({ type: 'integer', example: 0 }) revision!: number;
  @ApiProperty({ example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e60' }) eventId!: string;
  @ApiProperty({ example: 'CustomerRegistered' }) type!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: AT }) occurredAt!: unknown;
  @ApiProperty({ format: 'date-time', example: AT }) recordedAt!: string;
  @ApiProperty({ type: ActorDto, nullable: true }) actor!: unknown;
  @ApiProperty({ type: String, nullable: true }) correlationId!: unknown;
  @ApiProperty({ type: String, nullable: true }) causationId!: unknown;
  @ApiProperty({ type: 'integer', nullable: true, example: 1 }) schemaVersion!: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Personal fields read "[erased]" after erasure; redacted for analysts' })
  data!: unknown;
}

@ApiSchema({ name: 'CustomerTrail' })
export class CustomerTrail {
  @ApiProperty({ example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' }) customerId!: string;
  @ApiProperty({ type: [AuditEventView], description: 'The customer stream and its complaints and orders, in log order' }) events!: AuditEventView[];
}

/** One line of the audit export: a header, events, and a signed digest last; each hash-chained to the previous. */
@ApiSchema({ name: 'AuditExportLine' })
export class AuditExportLineView {
  @ApiProperty({ enum: ['header', 'event', 'digest'] }) kind!: string;
  @ApiPropertyOptional({ type: 'integer' }) seq?: number;
  @ApiPropertyOptional({ type: AuditEventView }) event?: AuditEventView;
  @ApiPropertyOptional({ description: 'sha-256 of the previous line (header: the genesis value)' }) prevHash?: string;
  @ApiPropertyOptional() hash?: string;
  @ApiPropertyOptional({ description: 'digest: Ed25519 signature over the count and the last hash' }) signature?: string;
}
