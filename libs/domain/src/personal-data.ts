import type { ComplaintEvent } from './complaint/complaint-events';
import type { CustomerEvent } from './customer/customer-events';
import type { OrderEvent } from './order/order-events';

/**
 * Event types whose data names the customer they are about: the encrypting store seals their personal fields with that
 * customer's key (`customerId`). A personal field on a type without it would be stored in clear, so PERSONAL_FIELDS
 * only accepts these (a compile error otherwise).
 */
type AboutACustomer = Extract<CustomerEvent | ComplaintEvent | OrderEvent, { data: { customerId: string } }>['type'];

/**
 * Which fields of which events are personal data: a customer's identity (name, e-mail, phone) and every free-text
 * field of an event about a customer (DESIGN §7: summaries, outcomes, descriptions, reasons, notes, messages,
 * categories typed by staff or customers, order line descriptions), since any of them may name or describe the
 * customer. Analysts see these redacted; erasure (crypto-shredding) targets exactly these. Codes (sku, priority,
 * channel, purpose, SLA kind) are not free text and stay in clear, so analytics can group by them.
 *
 * A path is dotted (`changes.name`); `[]` after a key walks every element of an array (`lines[].description`).
 *
 * Not here: `CustomerErased.reason` is appended after the key is destroyed, so it cannot be sealed with it; it is the
 * erasure's own record (a request reference) and must not describe the customer (docs/privacy.md).
 * `externalRef` is personal although not free text: it names the person in a source system (a re-import recognises
 * an erased customer by its deterministic id, not by this ref).
 */
export const PERSONAL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  CustomerRegistered: ['name', 'email', 'phone', 'externalRef'],
  CustomerProfileChanged: ['changes.name', 'changes.email', 'changes.phone'],
  CustomerOwnerAssigned: ['reason'],
  ContactLogged: ['summary', 'outcome'],
  FollowUpScheduled: ['reason'],
  CustomerMergedInto: ['reason'],
  CustomerMerged: ['reason'],
  CustomerUnmergedFrom: ['reason'],
  CustomerUnmerged: ['reason'],
  FollowUpCompleted: ['note'],
  FollowUpCancelled: ['reason'],
  FollowUpReassigned: ['reason'],
  ComplaintFiled: ['category', 'description'],
  ComplaintResponded: ['message'],
  ComplaintResolved: ['resolution'],
  ComplaintReopened: ['reason'],
  ComplaintOwnerChanged: ['reason'],
  ComplaintAwaitingCustomer: ['reason'],
  ComplaintResumed: ['reason'],
  ComplaintPriorityChanged: ['reason'],
  PurchaseRecorded: ['lines[].description'],
  ReturnRecorded: ['reason'],
} satisfies { readonly [T in AboutACustomer]?: readonly string[] };

/** One step of a path: a key, and whether its value is an array whose every element the rest of the path walks. */
interface Step {
  readonly key: string;
  readonly each: boolean;
}

/** Paths parsed once: the walks below run for every event read or appended (decryption, redaction). */
const COMPILED: ReadonlyMap<string, ReadonlyArray<readonly Step[]>> = new Map(
  Object.entries(PERSONAL_FIELDS).map(([type, paths]) => [
    type,
    paths.map((path) => path.split('.').map((part) => (part.endsWith('[]') ? { key: part.slice(0, -2), each: true } : { key: part, each: false }))),
  ]),
);

/**
 * The compiled steps of `only` (paths of PERSONAL_FIELDS[type]; others ignored), compiled once per selection array and
 * type: a reader passes the same array for every event (the runner's union of its projections' `opens`), so the
 * lookup is by identity, with no key to build per event. The array is read once, so it must not change afterwards.
 */
const SELECTED = new WeakMap<readonly string[], Map<string, ReadonlyArray<readonly Step[]>>>();
function selectedPaths(type: string, only: readonly string[]): ReadonlyArray<readonly Step[]> {
  let byType = SELECTED.get(only);
  if (!byType) SELECTED.set(only, (byType = new Map()));
  let steps = byType.get(type);
  if (!steps) {
    const all = PERSONAL_FIELDS[type] ?? [];
    const compiled = COMPILED.get(type) ?? [];
    steps = all.flatMap((path, i) => (only.includes(path) ? [compiled[i]!] : []));
    byType.set(type, steps);
  }
  return steps;
}

export const REDACTED = '[redacted]';
/** What an erased customer's personal fields read as, in the log (key destroyed) and in every read model. */
export const ERASED = '[erased]';

/**
 * `data` with `fn` applied to each personal field of the event type that holds a value (null and absent fields stay
 * as they are). Copy-on-write along each field's path only: `data` itself is never changed, and the parts of it no
 * personal field lies in are shared. The one walk of personal fields: redaction, erasure masks and the event
 * store's encryption all go through it. `only`: these paths of the type's PERSONAL_FIELDS and no other (a projection
 * opens only the fields it reads).
 */
export function mapPersonalData(type: string, data: unknown, fn: (value: unknown) => unknown, only?: readonly string[]): unknown {
  const paths = only ? selectedPaths(type, only) : COMPILED.get(type);
  if (!paths || typeof data !== 'object' || data === null) return data;
  let result = data as Record<string, unknown>;
  for (const steps of paths) result = mapPath(result, steps, 0, fn);
  return result;
}

/**
 * Like mapPersonalData, but each personal field that holds a value becomes a getter that applies `fn` when it is first
 * read (once; assignable like a plain field). A reader that never touches a field never pays for it: a command's fold
 * reads a customer's name but none of the contact summaries of its stream, a loyalty projection no personal field at
 * all. The copy is enumerable and serializes as mapPersonalData's would (same keys, same order, same values).
 */
export function mapPersonalDataLazily(type: string, data: unknown, fn: (value: unknown) => unknown): unknown {
  const paths = COMPILED.get(type);
  if (!paths || typeof data !== 'object' || data === null) return data;
  // Fresh objects along every path whose field holds a value: the getters are defined on those, never on `data`.
  const copy = mapPersonalData(type, data, (value) => value) as Record<string, unknown>;
  for (const steps of paths) {
    const leaf = steps[steps.length - 1]!;
    if (steps.length === 1 && !leaf.each) {
      defineLazily(copy, leaf.key, fn); // the common case (a top-level field): no walk
      continue;
    }
    for (const parent of parentsOf(copy, steps)) {
      if (leaf.each) {
        const list = parent[leaf.key];
        if (Array.isArray(list)) list.forEach((_, i) => defineLazily(list as unknown as Record<string, unknown>, String(i), fn));
      } else {
        defineLazily(parent, leaf.key, fn);
      }
    }
  }
  return copy;
}

/** The objects holding a path's last step (several when the path walks an array). */
function parentsOf(root: Record<string, unknown>, steps: readonly Step[]): Array<Record<string, unknown>> {
  let level: unknown[] = [root];
  for (let i = 0; i < steps.length - 1; i += 1) {
    const { key, each } = steps[i]!;
    const next: unknown[] = [];
    for (const node of level) {
      const value = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
      if (each) {
        if (Array.isArray(value)) next.push(...(value as unknown[]));
      } else {
        next.push(value);
      }
    }
    level = next;
  }
  return level.filter((n): n is Record<string, unknown> => typeof n === 'object' && n !== null);
}

function defineLazily(parent: Record<string, unknown>, key: string, fn: (value: unknown) => unknown): void {
  const raw = parent[key];
  if (raw === undefined || raw === null) return;
  let opened = false;
  let value: unknown;
  Object.defineProperty(parent, key, {
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

/** Copy-on-write along one path; the same object back when no field of the path holds a value. */
function mapPath(obj: Record<string, unknown>, steps: readonly Step[], at: number, fn: (value: unknown) => unknown): Record<string, unknown> {
  const step = steps[at];
  if (step === undefined) return obj;
  const value = obj[step.key];
  if (value === undefined || value === null) return obj;
  const last = at === steps.length - 1;
  if (step.each) {
    if (!Array.isArray(value)) return obj;
    let changed = false;
    const mapped = (value as unknown[]).map((element) => {
      if (element === undefined || element === null) return element;
      if (last) {
        changed = true;
        return fn(element);
      }
      if (typeof element !== 'object') return element;
      const next = mapPath(element as Record<string, unknown>, steps, at + 1, fn);
      if (next !== element) changed = true;
      return next;
    });
    return changed ? { ...obj, [step.key]: mapped } : obj;
  }
  if (last) return { ...obj, [step.key]: fn(value) };
  if (typeof value !== 'object') return obj;
  const next = mapPath(value as Record<string, unknown>, steps, at + 1, fn);
  return next === value ? obj : { ...obj, [step.key]: next };
}

/** A copy of `data` with every personal field that is present replaced (null and absent fields stay as they are). */
export function redactPersonalData(type: string, data: unknown, replacement: string = REDACTED): unknown {
  return mapPersonalData(type, data, () => replacement);
}
