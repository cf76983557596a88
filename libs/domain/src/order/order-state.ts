import type { Money } from '../shared/money';
import type { OrderEvent } from './order-events';

export type OrderLineState = { sku: string; quantity: number; unitPrice: Money; returnedQuantity: number };

export type NoOrder = { exists: false };

export type RecordedOrderState = {
  exists: true;
  orderId: string;
  customerId: string;
  currency: string;
  occurredAt: string;
  /** Purchase lines in invoice order, each with how many of its units were returned. */
  lines: readonly OrderLineState[];
  returnIds: readonly string[];
};

export type OrderState = NoOrder | RecordedOrderState;

export function initialOrderState(): OrderState {
  return { exists: false };
}

export function evolveOrder(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'PurchaseRecorded': {
      const { orderId, customerId, currency, occurredAt, lines } = event.data;
      return {
        exists: true,
        orderId,
        customerId,
        currency,
        occurredAt,
        lines: lines.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice, returnedQuantity: 0 })),
        returnIds: [],
      };
    }
    case 'ReturnRecorded': {
      if (!state.exists) return state;
      let lines = state.lines;
      for (const returned of event.data.lines) lines = allocateReturn(lines, returned.sku, returned.quantity).lines;
      return { ...state, lines, returnIds: [...state.returnIds, event.data.returnId] };
    }
  }
}

/** Units bought of `sku` and not yet returned. */
export function returnableQuantity(lines: readonly OrderLineState[], sku: string): number {
  return lines
    .filter((line) => line.sku === sku)
    .reduce((sum, line) => sum + line.quantity - line.returnedQuantity, 0);
}

export type ReturnPortion = { quantity: number; unitPrice: Money };

/**
 * Returned units are taken from the purchase lines of that sku in invoice order: the first line's
 * units first, then the next line's. Evolve and decide share this, so a sku bought on two lines at
 * two prices is refunded at the price actually paid for each unit returned, and the portions say
 * which price that was. Units beyond what is returnable are not allocated (the decider refuses
 * such a return before it gets here).
 */
export function allocateReturn(
  lines: readonly OrderLineState[],
  sku: string,
  quantity: number,
): { lines: OrderLineState[]; portions: ReturnPortion[] } {
  let remaining = quantity;
  const portions: ReturnPortion[] = [];
  const updated = lines.map((line) => {
    if (line.sku !== sku || remaining <= 0) return line;
    const taken = Math.min(remaining, line.quantity - line.returnedQuantity);
    if (taken <= 0) return line;
    remaining -= taken;
    portions.push({ quantity: taken, unitPrice: line.unitPrice });
    return { ...line, returnedQuantity: line.returnedQuantity + taken };
  });
  return { lines: updated, portions };
}
