/**
 * Entry of the projector thread that `npm start` runs beside the API (see ProjectorThread): the same projector as
 * the projector process, on its own connections to the stores, reporting progress to the API thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeLogger } from './logger';
import { openProjector } from './open-projector';
import { isStoreOutage } from './start-retry';
import { lowerThisThread } from './thread-priority';
import { activeTracing, startTracing } from './tracing';
import type { ProjectorHost } from './projector-host';
import type { FromProjectorThread, ProgressEntry, ProjectorThreadData, ToProjectorThread } from './projector-thread.protocol';

if (!parentPort) throw new Error('projector-thread.worker runs as a worker thread');
const port = parentPort;
const { config, projections, slaWatcher, thread, threads } = workerData as ProjectorThreadData;

const post = (message: FromProjectorThread): void => port.postMessage(message);

function progressOf(host: ProjectorHost): ProgressEntry[] {
  return host.runner.status().map((s) => [
    s.name, host.runner.checkpointOf(s.name) ?? -1, s.serving?.version ?? s.version, s.serving?.generation ?? 0, s.status,
  ]);
}

/** Counters add up here and travel with the next progress message. */
class PendingCounter {
  private readonly values = new Map<string, number>();
  /** `label`: the one label that keys the counter, or several, keyed together as a JSON array of their values. */
  constructor(private readonly label: string | readonly string[], private readonly changed: () => void) {}
  inc(labels: Readonly<Record<string, string>>, by = 1): void {
    const key = typeof this.label === 'string' ? (labels[this.label] ?? '') : JSON.stringify(this.label.map((l) => labels[l] ?? ''));
    this.values.set(key, (this.values.get(key) ?? 0) + by);
    this.changed();
  }
  take(): Array<[string, number]> {
    const taken = [...this.values];
    this.values.clear();
    return taken;
  }
}

/**
 * First, before this thread starts any thread of its own (which would inherit the value): its priority below the
 * API's event loop (PROJECTOR_THREAD_NICE), said once per start, and where it cannot be done, why.
 */
function yieldTheCpu(): void {
  if (config.projectorThreadNice === 0) return;
  const outcome = lowerThisThread(config.projectorThreadNice);
  const logger = makeLogger(config, 'projector');
  if (outcome.applied) logger.log({ msg: 'projector thread runs below the API', thread, nice: outcome.nice, threadId: outcome.threadId });
  else if (config.projectorThreadNiceSet) logger.warn({ msg: 'projector thread runs at the API\'s priority: PROJECTOR_THREAD_NICE has no effect here', thread, reason: outcome.reason });
  // The default asked for nothing: where threads have no priority of their own (macOS, Windows), no warning at each start.
  else logger.debug({ msg: 'projector thread runs at the API\'s priority (no per-thread priority here)', thread, reason: outcome.reason });
}

async function main(): Promise<void> {
  yieldTheCpu();
  let host: ProjectorHost | undefined;
  let scheduled = false;
  let last = '';
  // One message per turn of this thread's event loop at most, and none when nothing changed: nine projections
  // applying one append report once or twice, not nine times.
  const flush = (): void => {
    scheduled = false;
    if (!host) return;
    const progress = progressOf(host);
    const events = metrics.projectionEvents.take();
    const breaches = metrics.slaBreaches.take();
    const escalations = metrics.slaEscalations.take();
    const restarts = metrics.subscriptionRestarts.take();
    const lockWait = metrics.readModelWriteLockWait.take().reduce((sum, [, by]) => sum + by, 0);
    const key = JSON.stringify(progress);
    if (key === last && events.length === 0 && breaches.length === 0 && escalations.length === 0 && restarts.length === 0) return;
    last = key;
    post({
      t: 'progress', progress, projectionEvents: events, slaBreaches: breaches, slaEscalations: escalations, subscriptionRestarts: restarts,
      writeLockWaitSeconds: lockWait,
    });
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  const metrics = {
    projectionEvents: new PendingCounter('projection', schedule),
    slaBreaches: new PendingCounter('kind', schedule),
    slaEscalations: new PendingCounter(['step', 'priority'], schedule),
    subscriptionRestarts: new PendingCounter('reason', schedule),
    // Sent with the next progress message, not a reason for one: every write reports its (mostly zero) wait.
    readModelWriteLockWait: new PendingCounter([], () => undefined),
  };
  const appended = new Set<() => void>();
  let close: (() => Promise<void>) | undefined;
  let stopping = false;
  port.on('message', (message: ToProjectorThread) => {
    switch (message.t) {
      case 'appended':
        for (const listener of appended) listener();
        return;
      case 'call':
        void answer(message);
        return;
      case 'stop':
        if (stopping) return;
        stopping = true;
        if (close) void stop(close); // else the start below stops it as soon as it is open
        return;
    }
  });
  const stop = async (closeProjector: () => Promise<void>): Promise<void> => {
    try {
      await closeProjector();
      await activeTracing()?.flush();
    } finally {
      post({ t: 'stopped' });
      port.close();
    }
  };
  const answer = async (call: Extract<ToProjectorThread, { t: 'call' }>): Promise<void> => {
    try {
      if (!host) throw new Error('the projector is not started yet');
      const value = call.op === 'status' ? host.runner.status() : await host.runner.rebuild(call.name);
      post({ t: 'reply', id: call.id, ok: true, value });
    } catch (error) {
      post({ t: 'reply', id: call.id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  };
  try {
    // A worker thread is a realm of its own: the API's tracer provider is not visible here, so it starts its own.
    await startTracing({ serviceName: 'crm-projector' });
    ({ host, close } = await openProjector(config, {
      metrics, onProgress: schedule, appendsElsewhere: (listener) => appended.add(listener),
      projections, startSlaWatcher: slaWatcher, thread: { index: thread, count: threads },
    }));
  } catch (error) {
    post({ t: 'start-failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error), outage: isStoreOutage(error) });
    port.close();
    return;
  }
  if (stopping) return stop(close);
  const progress = progressOf(host);
  last = JSON.stringify(progress);
  post({ t: 'ready', progress });
  reportCatchUp(host);
}

/**
 * A catch-up after an import or a new projection version can take minutes: say how far it is every 30 s, and once
 * when every projection is live (as the projector process logs its status).
 */
function reportCatchUp(host: ProjectorHost): void {
  const logger = makeLogger(config, 'projector');
  let wasBehind = false;
  const timer = setInterval(() => {
    const behind = host.runner.status().filter((s) => s.status !== 'live' || s.rebuild);
    if (behind.length > 0) {
      wasBehind = true;
      logger.log({ msg: 'projections catching up', thread, projections: behind.map((s) => ({ name: s.name, checkpoint: s.checkpoint, status: s.status, rebuild: s.rebuild ?? undefined })) });
    } else if (wasBehind) {
      wasBehind = false;
      logger.log({ msg: 'every projection of this thread is live', thread, checkpoint: Math.min(...host.runner.status().map((s) => s.checkpoint)) });
    }
  }, 30_000);
  timer.unref();
}

void main();
