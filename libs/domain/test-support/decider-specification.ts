/**
 * Given / when / then for deciders, after Emmett's DeciderSpecification. Test-only; production code
 * never imports it. It imports `expect` from @jest/globals rather than using the global because the
 * app build compiles every file under libs/ without Jest's ambient types.
 *
 *   spec.given([registered]).when(logContact, now).then([contactLogged]);
 *   spec.given([]).when(convert).thenThrows('customer-not-found', { customerId });
 */
import { expect } from '@jest/globals';
import { DomainError } from '../src/shared/domain-error';
import type { DomainErrorCode } from '../src/shared/domain-error';
import type { Decider } from '../src/shared/decider';

/** The clock used when a test does not care about it. */
export const DEFAULT_NOW = new Date('2026-03-02T09:00:00.000Z');

export interface WhenClause<S, E> {
  /** Asserts the exact events decided. */
  then(expected: E[]): void;
  /** Asserts a DomainError with this code and, when given, details containing these fields. */
  thenThrows(code: DomainErrorCode, details?: Record<string, unknown>): DomainError;
  /** Asserts that the command is accepted and decides nothing. */
  thenNothing(): void;
  /** Asserts on the state reached by evolving the decided events, for rules about state. */
  thenState(assert: (state: S, events: E[]) => void): void;
}

export interface GivenClause<C, S, E> {
  when(command: C, now?: Date): WhenClause<S, E>;
}

export const DeciderSpecification = {
  for<C, S, E>(decider: Decider<C, S, E>): { given(events: E[]): GivenClause<C, S, E> } {
    return {
      given(events: E[]): GivenClause<C, S, E> {
        const state = events.reduce<S>((current, event) => decider.evolve(current, event), decider.initialState());
        return {
          when(command: C, now: Date = DEFAULT_NOW): WhenClause<S, E> {
            const run = (): E[] => decider.decide(command, state, now);
            return {
              then(expected: E[]): void {
                expect(run()).toEqual(expected);
              },
              thenNothing(): void {
                expect(run()).toEqual([]);
              },
              thenState(assert: (state: S, events: E[]) => void): void {
                const decided = run();
                assert(
                  decided.reduce<S>((current, event) => decider.evolve(current, event), state),
                  decided,
                );
              },
              thenThrows(code: DomainErrorCode, details?: Record<string, unknown>): DomainError {
                let decided: E[] | undefined;
                try {
                  decided = run();
                } catch (error: unknown) {
                  expect(error).toBeInstanceOf(DomainError);
                  const domainError = error as DomainError;
                  expect(domainError.code).toBe(code);
                  if (details !== undefined) expect(domainError.details).toMatchObject(details);
                  return domainError;
                }
                throw new Error(`expected DomainError '${code}', but the command decided ${JSON.stringify(decided)}`);
              },
            };
          },
        };
      },
    };
  },
};
