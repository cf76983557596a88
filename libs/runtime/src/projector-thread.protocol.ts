import type { ProjectionState, ProjectionStatus } from '@crm/read-models';
import type { AppConfig } from './config';

/**
 * Messages between the API thread and the projector thread of `npm start` (structured clones over the worker's port).
 * Progress is what queries need on every request (checkpoint and serving build of each projection), small enough to
 * send after every batch; everything else (full status, rebuild) is asked for.
 */

/** What a projector thread is started with (its `workerData`). */
export interface ProjectorThreadData {
  readonly config: AppConfig;
  /** Its share of the projections (groupProjections). */
  readonly projections: readonly string[];
  /** Whether it runs the SLA watcher and the owner hand-over: exactly one thread of a projector does. */
  readonly slaWatcher: boolean;
  /** Its index among the projector's threads (logs, lease replica id). */
  readonly thread: number;
  /** How many threads the projector runs. */
  readonly threads: number;
}

/** Per projection: [name, checkpoint (-1: none yet), serving version, serving generation, state]. */
export type ProgressEntry = [name: string, checkpoint: number, version: number, generation: number, state: ProjectionState];

export type FromProjectorThread =
  | { readonly t: 'ready'; readonly progress: ProgressEntry[] }
  | {
    readonly t: 'progress';
    readonly progress: ProgressEntry[];
    /** Counter increments since the previous message: [labels value, by]. */
    readonly projectionEvents: Array<[projection: string, by: number]>;
    readonly slaBreaches: Array<[kind: string, by: number]>;
    /** Keyed by JSON `[step, priority]`. */
    readonly slaEscalations: Array<[stepAndPriority: string, by: number]>;
    readonly subscriptionRestarts: Array<[reason: string, by: number]>;
    /** Seconds its writes waited for the read-model store's write lock since the previous message. */
    readonly writeLockWaitSeconds: number;
  }
  | { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: string }
  /** `outage`: the stores were down or too slow (isStoreOutage), so a later start may succeed. */
  | { readonly t: 'start-failed'; readonly error: string; readonly outage: boolean }
  | { readonly t: 'stopped' };

export type ToProjectorThread =
  | { readonly t: 'appended' }
  | { readonly t: 'call'; readonly id: number; readonly op: 'status' }
  | { readonly t: 'call'; readonly id: number; readonly op: 'rebuild'; readonly name: string }
  | { readonly t: 'stop' };

export type StatusReply = ProjectionStatus[];
export type RebuildReply = { generation: number; alreadyRunning: boolean };
