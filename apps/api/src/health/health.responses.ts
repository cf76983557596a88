import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'Live' })
export class LiveView {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

@ApiSchema({ name: 'Ready' })
export class ReadyView {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiProperty({ type: 'object', additionalProperties: true, example: { headPosition: 1042 } }) eventStore!: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { ok: true } }) readModelStore!: unknown;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Whether writes to DATA_DIR succeed' }) disk?: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { failed: [] } }) projections!: unknown;
}
