/**
 * Which fields of which events are personal data: a customer's identity (name, e-mail, phone) and free text written
 * about them (contact summaries, complaint descriptions and messages, follow-up reasons and notes). Analysts see these
 * redacted; erasure (crypto-shredding) targets exactly these.
 */
export const PERSONAL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  CustomerRegistered: ['name', 'email', 'phone'],
  CustomerProfileChanged: ['changes.name', 'changes.email', 'changes.phone'],
  ContactLogged: ['summary'],
  FollowUpScheduled: ['reason'],
  FollowUpCompleted: ['note'],
  FollowUpCancelled: ['reason'],
  ComplaintFiled: ['description'],
  ComplaintResponded: ['message'],
  ComplaintResolved: ['resolution'],
  ComplaintReopened: ['reason'],
};

export const REDACTED = '[redacted]';
/** What an erased customer's personal fields read as, in the log (key destroyed) and in every read model. */
export const ERASED = '[erased]';

/**
 * `data` with `fn` applied to each personal field of the event type that holds a value (null and absent fields stay
 * as they are). Copy-on-write along each field's path only: `data` itself is never changed, and the parts of it no
 * personal field lies in are shared. The one walk of personal fields: redaction, erasure masks and the event
 * store's encryption all go through it.
 */
export function mapPersonalData(type: string, data: unknown, fn: (value: unknown) => unknown): unknown {
  const fields = PERSONAL_FIELDS[type];
  if (!fields || typeof data !== 'object' || data === null) return data;
  let result = data as Record<string, unknown>;
  for (const path of fields) result = mapPath(result, path.split('.'), fn);
  return result;
}

function mapPath(obj: Record<string, unknown>, keys: readonly string[], fn: (value: unknown) => unknown): Record<string, unknown> {
  const [head, ...rest] = keys;
  if (head === undefined) return obj;
  const value = obj[head];
  if (value === undefined || value === null) return obj;
  if (rest.length === 0) return { ...obj, [head]: fn(value) };
  if (typeof value !== 'object') return obj;
  return { ...obj, [head]: mapPath(value as Record<string, unknown>, rest, fn) };
}

/** A copy of `data` with every personal field that is present replaced (null and absent fields stay as they are). */
export function redactPersonalData(type: string, data: unknown, replacement: string = REDACTED): unknown {
  return mapPersonalData(type, data, () => replacement);
}
