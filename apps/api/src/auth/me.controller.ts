import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiOk } from '../http/openapi/api-decorators';
import { CurrentPrincipal, Roles, type Principal } from './principal';
import { PrincipalView } from './me.responses';

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
  @ApiOk(PrincipalView, 'The principal of the token')
  me(@CurrentPrincipal() who: Principal): PrincipalView {
    return { id: who.id, role: who.role, ...(who.customerId !== undefined ? { customerId: who.customerId } : {}) };
  }
}
