/**
 * A decider in the Emmett sense: plain functions over plain data. `decide` returns the events a
 * command produces or throws a DomainError; `now` is the only clock the domain ever sees.
 */
export interface Decider<C, S, E> {
  decide(command: C, state: S, now: Date): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

/** Rebuilds a state from a stream's events. */
export function fold<S, E>(
  decider: Pick<Decider<never, S, E>, 'evolve' | 'initialState'>,
  events: readonly E[],
): S {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
