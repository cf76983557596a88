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

/** A copy of `data` with every personal field that is present replaced (null and absent fields stay as they are). */
export function redactPersonalData(type: string, data: unknown, replacement: string = REDACTED): unknown {
  const fields = PERSONAL_FIELDS[type];
  if (!fields || typeof data !== 'object' || data === null) return data;
  const copy = structuredClone(data) as Record<string, unknown>;
  for (const path of fields) {
    const keys = path.split('.');
    let target: Record<string, unknown> | undefined = copy;
    for (const key of keys.slice(0, -1)) {
      const next: unknown = target?.[key];
      target = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : undefined;
    }
    const last = keys[keys.length - 1] ?? '';
    if (target && last in target && target[last] !== null && target[last] !== undefined) target[last] = replacement;
  }
  return copy;
}
