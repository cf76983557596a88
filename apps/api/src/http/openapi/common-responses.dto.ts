import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ALL_PROBLEM_TYPES, type ProblemType } from '../problem-types';

@ApiSchema({ name: 'FieldError' })
export class FieldErrorDto {
  @ApiProperty({ example: 'email' })
  field!: string;

  @ApiProperty({ type: [String], example: ['email must be an email'] })
  messages!: string[];
}

/**
 * RFC 9457 problem details. Further members (extensions) depend on the type: e.g. `currentRevision` on
 * precondition-failed, `rule` on contact-cap-exceeded, `minPosition` and `position` on read-model-behind.
 */
@ApiSchema({ name: 'Problem' })
export class ProblemDto {
  @ApiProperty({ enum: ALL_PROBLEM_TYPES, enumName: 'ProblemType', description: 'Stable; switch on it', example: 'contact-cap-exceeded' })
  type!: ProblemType;

  @ApiProperty({ description: 'The same for every occurrence of the type', example: 'Contact refused by the contact policy' })
  title!: string;

  @ApiProperty({ type: 'integer', example: 422 })
  status!: number;

  @ApiProperty({ description: 'What happened in this occurrence', example: 'customer has had 3 outbound contacts in 7 days' })
  detail!: string;

  @ApiPropertyOptional({ description: 'The request path', example: '/customers/01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f/contacts' })
  instance?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'validation-error and field-not-allowed: one entry per field' })
  errors?: FieldErrorDto[];
}

/** What every command answers (DESIGN §5): 201 with the stream revision (also the ETag) and the log position. */
@ApiSchema({ name: 'CommandResult' })
export class CommandResultDto {
  @ApiProperty({ description: 'Id of the entity the command created or changed', example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' })
  id!: string;

  @ApiProperty({ type: 'integer', description: 'Revision of the stream after the command: send it back as If-Match', example: 3 })
  streamRevision!: number;

  @ApiProperty({ type: 'integer', description: 'Global log position of the last event appended: pass it as minPosition to read your write', example: 1042 })
  position!: number;
}

@ApiSchema({ name: 'Actor' })
export class ActorDto {
  @ApiProperty({ example: 'agent-ana' })
  id!: string;

  @ApiProperty({ example: 'agent' })
  role!: string;
}
