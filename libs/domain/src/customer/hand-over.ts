import type { FollowUpReassigned } from './customer-events';
import type { RegisteredCustomer } from './customer-state';

/** The reason every move of a hand-over carries: the owner change's own reason, marked as a hand-over. */
export function handOverReason(reason: string): string {
  return `owner hand-over: ${reason}`;
}

/**
 * The customer's open follow-ups moved to `ownerId`, in the owner change's own append: they live in the customer's
 * stream, so they move atomically with the change (no process, no window in which they are half moved). A follow-up
 * already with the new owner has nothing to move.
 */
export function followUpsHandedOver(state: RegisteredCustomer, ownerId: string, reason: string): FollowUpReassigned[] {
  return Object.values(state.followUps)
    .filter((f) => f.status === 'open' && f.ownerId !== ownerId)
    .map((f) => ({
      type: 'FollowUpReassigned',
      data: { customerId: state.customerId, followUpId: f.followUpId, ownerId, previousOwnerId: f.ownerId, reason: handOverReason(reason) },
    }));
}
