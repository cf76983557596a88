import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { AuditEventView } from '../history/history.responses';
import { CommandResultDto } from '../http/openapi/common-responses.dto';

@ApiSchema({ name: 'CustomerExport' })
export class CustomerExportView {
  @ApiProperty({ example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' }) customerId!: string;
  @ApiProperty({ format: 'date-time' }) exportedAt!: string;
  @ApiProperty({ type: [AuditEventView], description: 'Everything recorded about the customer, decrypted, in log order' }) events!: AuditEventView[];
}

@ApiSchema({ name: 'ErasureReceipt' })
export class ErasureReceiptView {
  @ApiProperty() customerId!: string;
  @ApiProperty({ format: 'date-time' }) erasedAt!: string;
  @ApiProperty({ example: 'admin-1' }) erasedBy!: string;
  @ApiProperty({ example: 'GDPR Art. 17 request 2026-11-23 #123' }) reason!: string;
  @ApiProperty() method!: string;
  @ApiProperty() keyDestroyed!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'Per event type, the personal fields now read as "[erased]"' })
  fields!: Record<string, string[]>;

  @ApiProperty({ type: 'integer' }) eventsWithPersonalData!: number;
  @ApiProperty({ type: [String] }) streams!: string[];
  @ApiProperty({ type: [String] }) readModelsMasked!: string[];
  @ApiPropertyOptional({ type: [String], description: 'The other customers of a merge, erased with this one' })
  mergedCustomersErased?: string[];
  @ApiProperty({ type: [String] }) readModelsPending!: string[];
  @ApiProperty() readModelFilesCompacted!: boolean;
  @ApiProperty({ description: 'What the history keeps' }) kept!: string;
  @ApiProperty() embeddedProjector!: boolean;
}

@ApiSchema({ name: 'Erasure' })
export class ErasureView extends CommandResultDto {
  @ApiProperty({ type: ErasureReceiptView }) receipt!: ErasureReceiptView;
}
