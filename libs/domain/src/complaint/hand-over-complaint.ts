import type { Decider } from '../shared/decider';
import type { ComplaintEvent } from './complaint-events';
import { evolveComplaint, initialComplaintState, type ComplaintState } from './complaint-state';

/**
 * Sent by the owner hand-over process for one open complaint of a customer whose owner changed. It never fails:
 * whatever happened to the complaint meanwhile decides, and "nothing to do" is an answer, not an error.
 */
export type HandOverComplaint = {
  type: 'HandOverComplaint';
  data: {
    complaintId: string;
    ownerId: string;
    reason: string;
    /** Someone reassigned this complaint by hand after the owner change: that later, explicit choice stands. */
    reassignedSince: boolean;
  };
};

/**
 * Decides from the complaint's stream alone, so a hand-over run twice (or resumed after a crash half-way) moves each
 * complaint once: a complaint already with the new owner, closed, or reassigned by hand since yields nothing.
 */
export function decideHandOver(command: HandOverComplaint, state: ComplaintState): ComplaintEvent[] {
  const { ownerId, reason, reassignedSince } = command.data;
  if (!state.exists || state.status === 'closed' || state.ownerId === ownerId || reassignedSince) return [];
  return [
    {
      type: 'ComplaintOwnerChanged',
      data: { complaintId: state.complaintId, customerId: state.customerId, ownerId, previousOwnerId: state.ownerId, reason },
    },
  ];
}

/** The complaint stream's own evolve with the hand-over as its only command (the complaint decider is left as is). */
export const complaintHandOverDecider: Decider<HandOverComplaint, ComplaintState, ComplaintEvent> = {
  decide: (command, state) => decideHandOver(command, state),
  evolve: evolveComplaint,
  initialState: initialComplaintState,
};
