import type { PendingUpsert } from '../doubles/mongo-wire-double';

/**
 * Makes two upserts race on the Mongo double the way they can on mongod: once armed, the first two upserts into a
 * collection whose filter matched nothing both wait after their match, then insert one after the other, `first`
 * (by its filter) before the other. Pass `gate` as the double's `upsertGate`. Disarms itself after one race.
 */
export class UpsertRace {
  private armed: { collection: string; first: (filter: Record<string, unknown>) => boolean } | undefined;
  private waiting: Array<{ filter: Record<string, unknown>; go: () => void }> = [];
  /** How many races were run: a test asserts its race happened rather than trusting the arrival order. */
  races = 0;

  arm(collection: string, first: (filter: Record<string, unknown>) => boolean): void {
    this.armed = { collection, first };
    this.waiting = [];
  }

  readonly gate = async ({ ns, filter }: PendingUpsert): Promise<void> => {
    const armed = this.armed;
    if (!armed || !ns.endsWith(`.${armed.collection}`)) return;
    await new Promise<void>((go) => {
      this.waiting.push({ filter, go });
      if (this.waiting.length < 2) return;
      this.armed = undefined;
      this.races += 1;
      const [a, b] = this.waiting;
      if (!a || !b) return;
      const [winner, loser] = armed.first(a.filter) ? [a, b] : [b, a];
      winner.go();
      // The winner's insert runs in the microtasks after its gate opens, so it is done before the next macrotask.
      setImmediate(() => {
        loser.go();
      });
    });
  };
}
