import type { Money } from '../shared/money';

export type RecordPurchase = {
  type: 'RecordPurchase';
  data: {
    orderId: string;
    customerId: string;
    occurredAt: string;
    currency: string;
    /** The same sku may appear on several lines, as on real invoices. */
    lines: { sku: string; description: string; quantity: number; unitPrice: Money }[];
  };
};

export type RecordReturn = {
  type: 'RecordReturn';
  data: { orderId: string; returnId: string; occurredAt: string; reason: string; lines: { sku: string; quantity: number }[] };
};

export type OrderCommand = RecordPurchase | RecordReturn;

export type OrderCommandType = OrderCommand['type'];
