import { describe, expect, it } from '@jest/globals';
import { InMemoryEventStore, type EventStore } from '@crm/event-store';
import { ManualClock, Metrics } from '@crm/runtime';
import { CommandExecutor, type CommandContext } from './command-executor';

type Added = { type: 'Added'; data: { n: number } };
const counter = {
  initialState: (): number => 0,
  evolve: (total: number, event: Added): number => total + event.data.n,
  decide: (command: { n: number }): Added[] => [{ type: 'Added', data: { n: command.n } }],
};
const CONTEXT: CommandContext = { principal: { id: 'agent-1', role: 'agent' }, correlationId: 'c', causationId: 'c' };

/** Appends take a turn of the event loop, as real I/O does, and refused ones are counted. */
function slowStore(): { store: EventStore; conflicts: () => number } {
  const log = new InMemoryEventStore(() => new Date('2026-03-01T00:00:00.000Z'));
  let conflicts = 0;
  const store = Object.create(log) as EventStore;
  store.appendToStream = async (streamId, events, options) => {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      return await log.appendToStream(streamId, events, options);
    } catch (error) {
      conflicts += 1;
      throw error;
    }
  };
  return { store, conflicts: () => conflicts };
}

describe('CommandExecutor', () => {
  it('runs 50 commands that reach one stream at the same moment one after another: all succeed, none conflicts', async () => {
    const { store, conflicts } = slowStore();
    const executor = new CommandExecutor(store, new ManualClock(new Date('2026-03-01T00:00:00.000Z')), new Metrics());

    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => executor.execute({ streamId: 'tally-1', decider: counter, command: { n: i + 1 }, context: CONTEXT })),
    );

    expect(outcomes.map((o) => o.streamRevision).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(conflicts()).toBe(0);
    expect(await store.readStream('tally-1', { maxCount: 100 })).toHaveLength(50);
    expect(executor.busyStreams).toBe(0);
  });

  it('keeps streams independent, and a failed command does not stop the ones queued behind it', async () => {
    const { store } = slowStore();
    const executor = new CommandExecutor(store, new ManualClock(new Date('2026-03-01T00:00:00.000Z')), new Metrics());
    const refusing = { ...counter, decide: (command: { n: number }): Added[] => {
      if (command.n < 0) throw new Error('refused by the decider');
      return counter.decide(command);
    } };

    const results = await Promise.allSettled([
      executor.execute({ streamId: 'a', decider: refusing, command: { n: 1 }, context: CONTEXT }),
      executor.execute({ streamId: 'a', decider: refusing, command: { n: -1 }, context: CONTEXT }),
      executor.execute({ streamId: 'a', decider: refusing, command: { n: 2 }, context: CONTEXT }),
      executor.execute({ streamId: 'b', decider: refusing, command: { n: 3 }, context: CONTEXT }),
    ]);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((await store.readStream('a')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(executor.busyStreams).toBe(0);
  });
});
