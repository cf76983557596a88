import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { problems } from '../http/problem';
import { parseMinPosition } from '../read-side/read-model-gate';

const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export function intParam(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw problems.validation([{ field: name, messages: [`${name} must be an integer from ${min} to ${max}`] }]);
  }
  return n;
}

/** A date (`2026-11-23`, midnight UTC) or a date-time with a zone, as a canonical ISO string. */
export function instantParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  const t = INSTANT.test(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : Number.NaN;
  if (Number.isNaN(t)) {
    throw problems.validation([{ field: name, messages: [`${name} must be a date (YYYY-MM-DD) or an ISO-8601 date-time with a zone`] }]);
  }
  return new Date(t).toISOString();
}

export function enumParam<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw problems.validation([{ field: name, messages: [`${name} must be one of ${allowed.join(', ')}`] }]);
  }
  return value as T;
}

export function boolParam(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw problems.validation([{ field: name, messages: [`${name} must be true or false`] }]);
}

/** `?minPosition=` or `X-Min-Position`: the log position the answer must reflect (read-your-writes). */
export const MinPosition = createParamDecorator((_: unknown, ctx: ExecutionContext): number | undefined => {
  const request = ctx.switchToHttp().getRequest<{ query: Record<string, unknown>; headers: Record<string, unknown> }>();
  return parseMinPosition(request.query['minPosition'], request.headers['x-min-position']);
});
