/**
 * Where a command's CPU goes, by stage (issue 18 item 2): every sample of a V8 CPU profile of the SUT's main thread is
 * attributed to one stage by its call stack, and the stages are reported in µs per command.
 *
 * Two kinds of rule, because Fastify runs its hooks as a chain of callbacks: a hook that calls `done()` stays on the
 * stack of everything that follows it (the route, the reply, the socket write), so a frame's place on the stack does
 * not say that its subtree belongs to it.
 * - Subtree rules name functions that own everything they call (the auth guard, the validation pipe, the decider, the
 *   event store's commit). The highest-ranked subtree rule on the stack wins: sealing calls libs/domain's
 *   personal-data walk, which is sealing and not deciding.
 * - Self rules apply only when no subtree rule matched: the innermost frame that matches one names the stage (socket
 *   writes under an onSend hook are HTTP I/O, not the hook).
 * Frames no rule knows (natives, builtins, node:internal/util, reflect-metadata) are transparent: the sample goes to
 * the caller that a rule knows, else to `other`.
 *
 * The profile samples the main thread only: CPU of other threads (the projector thread of `npm start`, the WAL
 * checkpointer, libuv's fsyncs) is in the process's CPU, not in these stages; the report shows the difference.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from './child-server';
import { round, table } from './stats';

export const STAGES = [
  'http I/O (socket, HTTP parse/write)',
  'body parse (JSON)',
  'routing (Fastify, Nest, CQRS bus)',
  'auth (bearer guard)',
  'validation (pipe, class-validator/-transformer)',
  'idempotency',
  'load (read stream, fold)',
  'decide (domain)',
  'command glue (controller, executor, metadata)',
  'seal personal fields',
  'append (SQLite insert, commit)',
  'reply (serialisation)',
  'metrics, logging',
  'GC',
  'other',
] as const;
export type Stage = (typeof STAGES)[number];

interface Frame {
  readonly functionName: string;
  readonly url: string;
}

/** Repo-relative path (or `node:…`, or '' for natives). */
function pathOf(frame: Frame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url || url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 1);
  return url.startsWith('/') ? relative(REPO_ROOT, url) : url;
}

type Rule = readonly [Stage, (fn: string, path: string) => boolean];

// Ranked: the first rule that matches any frame of the stack wins.
const SUBTREE_RULES: readonly Rule[] = [
  ['seal personal fields', (fn, p) => p.endsWith('crypto/encrypting-event-store.ts') && !/^(readStream|readAll|opener|decrypt)$/.test(fn)],
  ['load (read stream, fold)', (fn, p) => (p.endsWith('crypto/encrypting-event-store.ts') && /^(readStream|opener|decrypt)$/.test(fn))
    || (p.endsWith('sqlite/sqlite-event-store.ts') && /^(readStream|query|toRecorded)$/.test(fn))
    || (p.endsWith('command-handling/handle-command.ts') && fn === 'loadAggregate')],
  ['append (SQLite insert, commit)', (fn, p) => p.endsWith('sqlite/sqlite-event-store.ts') || p.startsWith('node_modules/better-sqlite3/')],
  ['auth (bearer guard)', (_fn, p) => p.startsWith('apps/api/src/auth/')],
  ['validation (pipe, class-validator/-transformer)', (fn, p) => p.startsWith('node_modules/class-validator/') || p.startsWith('node_modules/class-transformer/')
    || p.startsWith('node_modules/@nestjs/common/pipes/') || p === 'apps/api/src/http/validation.ts'
    || (p === 'apps/api/src/http/http-edge.ts' && fn === 'jsonDepthExceeds')],
  ['idempotency', (fn, p) => p.startsWith('apps/api/src/idempotency/') && fn !== 'rememberIdempotentResponse' && fn !== 'releaseUnansweredIdempotencyKey'],
  ['decide (domain)', (fn, p) => p.startsWith('libs/domain/') || (p.endsWith('command-handling/handle-command.ts') && fn === 'decide')],
  ['metrics, logging', (_fn, p) => p.startsWith('node_modules/prom-client/') || p === 'libs/runtime/src/metrics.ts' || p.startsWith('node_modules/pino')
    || p === 'libs/runtime/src/logger.ts' || p === 'apps/api/src/http/request-id.ts'],
];

// Innermost match wins; only when no subtree rule matched.
const SELF_RULES: readonly Rule[] = [
  ['body parse (JSON)', (fn, p) => p.startsWith('node_modules/secure-json-parse/') || p === 'node_modules/fastify/lib/contentTypeParser.js'
    || (p === '' && fn === 'parse')],
  ['reply (serialisation)', (_fn, p) => p === 'node_modules/fastify/lib/reply.js' || p.startsWith('node_modules/fast-json-stringify/')
    || p === 'node_modules/fastify/lib/error-serializer.js' || p === 'apps/api/src/http/command-response.ts'
    || p === 'node_modules/@nestjs/platform-fastify/adapters/fastify-adapter.js' || p === 'apps/api/src/http/command-response.ts'],
  ['http I/O (socket, HTTP parse/write)', (_fn, p) => /^node:(_http_|net$|internal\/stream_base_commons|internal\/streams\/|internal\/http)/.test(p)
    || p === 'node:stream' || p === 'node:events'],
  ['command glue (controller, executor, metadata)', (_fn, p) => /^apps\/api\/src\/(customers|complaints|purchases|commands)\//.test(p)
    || p.startsWith('libs/event-store/src/command-handling/') || p.startsWith('libs/runtime/') || p.startsWith('libs/event-store/src/tracing/')
    || p.startsWith('node_modules/@opentelemetry/')],
  ['routing (Fastify, Nest, CQRS bus)', (_fn, p) => p.startsWith('node_modules/fastify/') || p.startsWith('node_modules/find-my-way/')
    || p.startsWith('node_modules/@nestjs/') || p.startsWith('node_modules/rxjs/') || p.startsWith('node_modules/avvio/')
    || p.startsWith('node_modules/light-my-request/') || p.startsWith('apps/api/src/')],
];

/** The stage of one sample, given its stack from the leaf to the root. */
export function stageOf(stack: readonly Frame[]): Stage {
  const leaf = stack[0];
  if (leaf?.functionName === '(garbage collector)') return 'GC';
  let best: number | undefined;
  for (const frame of stack) {
    const path = pathOf(frame);
    for (let i = 0; i < (best ?? SUBTREE_RULES.length); i++) {
      if (SUBTREE_RULES[i]![1](frame.functionName, path)) {
        best = i;
        break;
      }
    }
  }
  if (best !== undefined) return SUBTREE_RULES[best]![0];
  for (const frame of stack) {
    const path = pathOf(frame);
    const rule = SELF_RULES.find(([, matches]) => matches(frame.functionName, path));
    if (rule) return rule[0];
  }
  return 'other';
}

interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface StageBreakdown {
  readonly commands: number;
  /** Sampled busy time of the main thread per command (idle excluded). */
  readonly sampledMicrosPerCommand: number;
  readonly stages: ReadonlyArray<{ stage: Stage; microsPerCommand: number; pct: number }>;
}

/** Stages of the given profiles, over the commands answered while they were taken. */
export function stageBreakdown(files: readonly string[], commands: number): StageBreakdown {
  const ms = new Map<Stage, number>(STAGES.map((s) => [s, 0]));
  let busy = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const stageOfNode = new Map<number, Stage | null>();
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      const delta = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
      let stage = stageOfNode.get(id);
      if (stage === undefined) {
        const stack: Frame[] = [];
        for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(nodes.get(at)!.callFrame);
        stage = stack[0]?.functionName === '(idle)' ? null : stageOf(stack);
        stageOfNode.set(id, stage);
      }
      if (stage === null) continue;
      busy += delta;
      ms.set(stage, ms.get(stage)! + delta);
    }
  }
  const perCommand = (x: number): number => round((1000 * x) / Math.max(1, commands), 1);
  return {
    commands,
    sampledMicrosPerCommand: perCommand(busy),
    stages: STAGES.map((stage) => ({ stage, microsPerCommand: perCommand(ms.get(stage)!), pct: round((100 * ms.get(stage)!) / Math.max(busy, 1e-9), 1) })),
  };
}

export function formatStageBreakdown(title: string, b: StageBreakdown, processCpuMicrosPerCommand: number): string {
  const rest = round(processCpuMicrosPerCommand - b.sampledMicrosPerCommand, 1);
  return [
    `${title}: ${b.commands} commands; main thread sampled ${b.sampledMicrosPerCommand} µs/cmd of the process's ${processCpuMicrosPerCommand} µs/cmd CPU ` +
      `(the ${rest} µs/cmd rest: other threads, i.e. projector thread, WAL checkpointer, fsyncs, and the profiler itself)`,
    table(['stage', 'µs/cmd', '%'], b.stages.map((s) => [s.stage, s.microsPerCommand, s.pct])),
  ].join('\n');
}
