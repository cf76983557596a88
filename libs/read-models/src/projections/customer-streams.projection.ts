import type { DocumentChange, ProjectedEvent, Projection } from '../projection/projection';
import type { Doc } from '../store/read-model-store.port';
import { asCrmEvent } from './crm-event';

export const CUSTOMER_STREAMS = 'customer_streams';

/** One customer's streams, in the order the log first named them. */
export interface CustomerStreamsFields {
  customerId: string;
  streams: string[];
}

export type CustomerStreamsDoc = Doc & CustomerStreamsFields;

/** Which streams belong to a customer (its own, its complaints', its orders'): the index behind the audit trail. */
export const customerStreamsProjection: Projection = {
  name: 'customer_streams',
  version: 1,
  eventTypes: ['CustomerRegistered', 'ComplaintFiled', 'PurchaseRecorded'],
  opens: {},
  collections: [{ name: CUSTOMER_STREAMS, indexes: [] }],
  changes(event: ProjectedEvent): DocumentChange[] {
    const e = asCrmEvent(event);
    if (e.type !== 'CustomerRegistered' && e.type !== 'ComplaintFiled' && e.type !== 'PurchaseRecorded') return [];
    return [{
      collection: CUSTOMER_STREAMS,
      id: e.data.customerId,
      evolve: (doc) => {
        const streams = (doc as CustomerStreamsDoc | null)?.streams ?? [];
        return { customerId: e.data.customerId, streams: streams.includes(event.streamId) ? streams : [...streams, event.streamId] } satisfies CustomerStreamsFields;
      },
    }];
  },
};
