import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { handleCommand } from '../command-handling/handle-command';
import { eventMetadataFactory } from '../command-handling/event-metadata';
import { InMemoryEventStore } from '../in-memory/in-memory-event-store';
import { tracingOn } from './trace-context';

const counter = {
  initialState: (): number => 0,
  evolve: (n: number): number => n + 1,
  decide: (): Array<{ type: string; data: unknown }> => [{ type: 'Counted', data: {} }],
};

describe('tracingOn: the per-command spans are built only when an SDK records them', () => {
  afterEach(() => trace.disable());

  it('is off with no provider registered, on while one is, and off again once it is disabled', async () => {
    expect(tracingOn()).toBe(false);
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    expect(tracingOn()).toBe(true);

    const store = new InMemoryEventStore();
    let id = 0;
    const options = {
      streamId: 'counter-1', command: {}, metadata: { correlationId: 'c', causationId: 'c', actor: { id: 'a', role: 'agent' } },
      now: () => new Date(0), eventMetadata: eventMetadataFactory({ newEventId: () => `e-${++id}`, schemaVersionOf: () => 1 }),
    };
    await handleCommand(store, counter, options);
    expect(exporter.getFinishedSpans().map((s) => s.name).sort()).toEqual(['append', 'decide']);

    trace.disable();
    expect(tracingOn()).toBe(false);
    await handleCommand(store, counter, options);
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    expect(await store.readStream('counter-1')).toHaveLength(2);
  });
});
