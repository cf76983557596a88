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

/**
 * Like mapPersonalData, but each personal field that holds a value becomes a getter that applies `fn` when it is first
 * read (once; assignable like a plain field). A reader that never touches a field never pays for it: a command's fold
 * reads a customer's name but none of the contact summaries of its stream, a loyalty projection no personal field at
 * all. The copy is enumerable and serializes as mapPersonalData's would (same keys, same order, same values).
 */
export function mapPersonalDataLazily(type: string, data: unknown, fn: (value: unknown) => unknown): unknown {
  const fields = PERSONAL_FIELDS[type];
  if (!fields || typeof data !== 'object' || data === null) return data;
  // Fresh objects along every path whose field holds a value: the getters are defined on those, never on `data`.
  const copy = mapPersonalData(type, data, (value) => value) as Record<string, unknown>;
  for (const path of fields) {
    const keys = path.split('.');
    const leaf = keys.pop()!;
    let parent: unknown = copy;
    for (const key of keys) parent = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[key] : undefined;
    if (typeof parent !== 'object' || parent === null) continue;
    const raw = (parent as Record<string, unknown>)[leaf];
    if (raw === undefined || raw === null) continue;
    let opened = false;
    let value: unknown;
    Object.defineProperty(parent, leaf, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (!opened) {
          value = fn(raw);
          opened = true;
        }
        return value;
      },
      set: (next: unknown) => {
        value = next;
        opened = true;
      },
    });
  }
  return copy;
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
