import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ROLES, type Role } from './principal';

/** Who a bearer token belongs to (GET /me). */
@ApiSchema({ name: 'Principal' })
export class PrincipalView {
  @ApiProperty({ example: 'agent-ana' })
  id!: string;

  @ApiProperty({ enum: ROLES, example: 'agent' })
  role!: Role;

  @ApiPropertyOptional({ description: 'Only for role customer: the one customer this token acts for', example: '01936f1e-7a4b-7c3d-9e2f-0a1b2c3d4e5f' })
  customerId?: string;
}
