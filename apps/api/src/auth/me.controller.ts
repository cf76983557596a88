import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, ROLES, Roles, type Principal, type Role } from './principal';

export class PrincipalDto {
  @ApiProperty({ example: 'agent-ana' })
  id!: string;

  @ApiProperty({ enum: ROLES, example: 'agent' })
  role!: Role;

  @ApiPropertyOptional({ description: 'Only for role customer: the one customer this token acts for' })
  customerId?: string;
}

/**
 * Who the bearer token belongs to. A frontend needs it to check a pasted token at sign-in and to show "my" work
 * (the follow-ups and complaints owned by the signed-in agent) without asking the agent to type their id.
 */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('me')
export class MeController {
  @Get()
  @Roles('agent', 'analyst', 'auditor', 'admin', 'customer')
  @ApiOperation({ summary: 'The principal of the bearer token: id, role (and customerId for self-service)' })
  @ApiOkResponse({ type: PrincipalDto })
  me(@CurrentPrincipal() who: Principal): PrincipalDto {
    return { id: who.id, role: who.role, ...(who.customerId !== undefined ? { customerId: who.customerId } : {}) };
  }
}
