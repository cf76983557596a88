import type { Api } from './api.js';

/**
 * Names for lists that carry only customer ids (the complaint board, follow-ups): one profile read per distinct
 * customer, in parallel. A profile that cannot be read (erased, or not yet projected) keeps its id as the label.
 */
export async function customerNames(api: Api, ids: readonly string[]): Promise<Map<string, string>> {
  const distinct = [...new Set(ids)];
  const settled = await Promise.allSettled(distinct.map((id) => api.customer(id)));
  const names = new Map<string, string>();
  settled.forEach((result, i) => {
    const id = distinct[i];
    if (id !== undefined) names.set(id, result.status === 'fulfilled' ? result.value.name : id);
  });
  return names;
}
