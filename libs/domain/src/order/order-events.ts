import type { Money } from '../shared/money';

/** Events of the `order-<orderId>` stream, as in docs/event-catalogue.md. */

export type PurchaseLine = { sku: string; description: string; quantity: number; unitPrice: Money; lineTotal: Money };

export type PurchaseRecorded = {
  type: 'PurchaseRecorded';
  data: { orderId: string; customerId: string; occurredAt: string; currency: string; lines: PurchaseLine[]; total: Money };
};

export type ReturnLine = { sku: string; quantity: number; unitPrice: Money; lineTotal: Money };

export type ReturnRecorded = {
  type: 'ReturnRecorded';
  data: {
    orderId: string;
    customerId: string;
    returnId: string;
    occurredAt: string;
    reason: string;
    lines: ReturnLine[];
    total: Money;
  };
};

export type OrderEvent = PurchaseRecorded | ReturnRecorded;

export type OrderEventType = OrderEvent['type'];

export const ORDER_EVENT_TYPES = ['PurchaseRecorded', 'ReturnRecorded'] as const satisfies readonly OrderEventType[];
