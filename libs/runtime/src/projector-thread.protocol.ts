import type { ProjectionState, ProjectionStatus } from '@crm/read-models';

/**
 * Messages between the API thread and the projector thread of `npm start` (structured clones over the worker's port).
 * Progress is what queries need on every request (checkpoint and serving build of each projection), small enough to
 * send after every batch; everything else (full status, rebuild) is asked for.
 */

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
  }
  | { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: string }
  | { readonly t: 'start-failed'; readonly error: string }
  | { readonly t: 'stopped' };

export type ToProjectorThread =
  | { readonly t: 'appended' }
  | { readonly t: 'call'; readonly id: number; readonly op: 'status' }
  | { readonly t: 'call'; readonly id: number; readonly op: 'rebuild'; readonly name: string }
  | { readonly t: 'stop' };

export type StatusReply = ProjectionStatus[];
export type RebuildReply = { generation: number; alreadyRunning: boolean };
