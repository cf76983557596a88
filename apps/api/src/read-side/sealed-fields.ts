import { Inject, Injectable } from '@nestjs/common';
import { mapPersonalData } from '@crm/domain';
import { fieldOpener, type KeyStore } from '@crm/event-store';
import type { Doc } from '@crm/read-models';
import { KEY_STORE } from '../privacy/erasure.service';

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
  async openEventData(docs: readonly Doc[]): Promise<Doc[]> {
    const open = await fieldOpener(this.keys, docs.map((d) => String(d['customerId'])));
    return docs.map((d) => {
      const subject = String(d['customerId']);
      return { ...d, data: mapPersonalData(String(d['type']), d['data'], (value) => open(subject, value)) };
    });
  }
}
