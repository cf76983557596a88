import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { problems } from '../http/problem';
import { ALLOWED_ROLES, DEFAULT_ROLES, IS_PUBLIC, type RequestWithPrincipal, type Role } from './principal';
import { TokenRegistry } from './token-registry';

/** Global guard: bearer token → principal on the request, then the route's roles. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TokenRegistry) private readonly tokens: TokenRegistry,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<RequestWithPrincipal & { headers: Record<string, unknown> }>();
    const header = request.headers['authorization'];
    if (typeof header !== 'string' || !/^Bearer\s+\S+$/i.test(header)) {
      throw problems.unauthorized('Send "Authorization: Bearer <token>"');
    }
    const principal = this.tokens.lookup(header.replace(/^Bearer\s+/i, '').trim());
    if (!principal) throw problems.unauthorized('Unknown or revoked token');
    request.principal = principal;
    const allowed = this.reflector.getAllAndOverride<Role[]>(ALLOWED_ROLES, targets) ?? DEFAULT_ROLES;
    if (!allowed.includes(principal.role)) {
      throw problems.forbidden(`Role ${principal.role} may not use this route`);
    }
    return true;
  }
}
