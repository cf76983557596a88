import { Inject, Injectable } from '@nestjs/common';
import { mapPersonalData } from '@crm/domain';
import { fieldOpener, type KeyStore } from '@crm/event-store';
import type { Doc } from '@crm/read-models';
import { KEY_STORE } from '../privacy/erasure.service';

/** A document that keeps an event's data (`type`, `data`) for the customer it names (`customerId`): a timeline entry. */
export type EventDataDoc = Doc & { readonly customerId: string; readonly type: string; readonly data: unknown };

/**
 * Opens what sealed read models keep sealed (Projection.sealed), for the page a query answers: one key lookup for
 * every customer on the page (the key store caches keys), then each document's personal fields with the key of the
 * customer the document names. An erased customer's fields read as "[erased]" from the moment the key is destroyed,
 * before any projection has seen the erasure.
 */
@Injectable()
export class SealedFields {
  constructor(@Inject(KEY_STORE) private readonly keys: KeyStore) {}

  /**
   * Documents that keep an event's data (`type`, `data`) for the customer in `customerId`, with that data opened.
   * Documents whose data is already in clear (an older build still serving) come back the same, erasure applied.
   */
  async openEventData<D extends EventDataDoc>(docs: readonly D[]): Promise<D[]> {
    const open = await fieldOpener(this.keys, docs.map((d) => d.customerId));
    return docs.map((d) => ({ ...d, data: mapPersonalData(d.type, d.data, (value) => open(d.customerId, value)) }));
  }
}
