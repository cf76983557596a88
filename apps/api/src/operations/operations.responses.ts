import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'ProjectionStatus' })
export class ProjectionReportView {
  @ApiProperty({ example: 'customer_profiles' }) name!: string;
  @ApiProperty({ type: 'integer', example: 1 }) version!: number;
  @ApiProperty({ type: 'integer', example: 1042 }) checkpoint!: number;
  @ApiProperty({ type: 'integer', example: 0 }) lagEvents!: number;
  @ApiProperty({ type: 'integer', example: 0 }) lagMs!: number;
  @ApiProperty({ example: 'live' }) status!: string;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'The failing event and error when status is failed' })
  lastError!: unknown;

  @ApiProperty({ type: 'integer', nullable: true }) eventsApplied!: number | null;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'The generation serving queries' }) serving!: unknown;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'A blue/green rebuild under way' }) rebuild!: unknown;
  @ApiProperty({ type: String, nullable: true, description: 'Projector replica holding the lease (MongoDB)' }) owner!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) leaseExpiresAt!: string | null;
}

@ApiSchema({ name: 'Projections' })
export class ProjectionsView {
  @ApiProperty({ type: 'integer', example: 1042 }) headPosition!: number;
  @ApiProperty({ type: [ProjectionReportView] }) projections!: ProjectionReportView[];
}

@ApiSchema({ name: 'RebuildStarted' })
export class RebuildStartedView {
  @ApiProperty({ example: 'customer_profiles' }) projection!: string;
  @ApiProperty({ type: 'integer', example: 2 }) generation!: number;
  @ApiProperty({ example: false }) alreadyRunning!: boolean;
  @ApiProperty({ description: 'Where to watch it', example: '/projections' }) status!: string;
}
