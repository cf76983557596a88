import type { SlaPolicyProblem } from '@crm/domain';
import type { FieldError } from './problem';

/** One entry per field, its messages together (the shape class-validator failures have too). */
export function fieldErrors(found: readonly SlaPolicyProblem[], prefix = ''): FieldError[] {
  const byField = new Map<string, string[]>();
  for (const { field, message } of found) {
    const name = prefix && field ? `${prefix}.${field}` : prefix || field || 'body';
    byField.set(name, [...(byField.get(name) ?? []), message]);
  }
  return [...byField].map(([field, messages]) => ({ field, messages }));
}
