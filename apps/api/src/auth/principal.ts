import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

export const ROLES = ['agent', 'analyst', 'auditor', 'admin', 'customer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly id: string;
  readonly role: Role;
  /** Only for role `customer`: the one customer this principal may see and act for. */
  readonly customerId?: string;
}

export const IS_PUBLIC = 'crm:isPublic';
export const ALLOWED_ROLES = 'crm:roles';

/** Roles a route allows when it names none: every authenticated role but `customer`. */
export const DEFAULT_ROLES: readonly Role[] = ['agent', 'analyst', 'auditor', 'admin'];
/** Route needs no token (health, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
/** Roles allowed on a route or controller (the route's own list wins); routes without it allow DEFAULT_ROLES. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ALLOWED_ROLES, roles);

export interface RequestWithPrincipal {
  principal?: Principal;
}

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<RequestWithPrincipal>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a public route');
  return principal;
});
