export { createCrmClient, etag, ok, ProblemError, readModelPosition } from './client';
export type { CrmClient, CrmClientOptions, FieldError, Problem, ProblemType } from './client';
export type { components, operations, paths } from './schema';
