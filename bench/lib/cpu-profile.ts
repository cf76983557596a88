import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from './child-server';
import { round, table } from './stats';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled milliseconds, (idle) excluded. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly byCategory: Array<{ category: string; ms: number; pct: number }>;
  readonly topSelf: Array<{ fn: string; where: string; ms: number; pct: number }>;
  /** Inclusive time of the project's own functions (apps/, libs/) and of selected framework entry points. */
  readonly topInclusive: Array<{ fn: string; where: string; ms: number; pct: number }>;
}

function where(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return '(native)';
  const path = url.startsWith('/') ? relative(REPO_ROOT, url) : url;
  return `${path}:${frame.lineNumber + 1}`;
}

/** Which library or layer a frame belongs to, e.g. "node_modules/class-validator", "apps/api", "node:internal". */
export function category(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native/builtin)';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `node_modules/${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const rel = relative(REPO_ROOT, url);
  const parts = rel.split('/');
  if (parts[0] === 'apps' || parts[0] === 'libs') return `${parts[0]}/${parts[1]}`;
  if (parts[0] === 'bench') return 'bench';
  return rel;
}

/** Self and inclusive time per function, summed over one or more .cpuprofile files. */
export function summarizeProfiles(files: readonly string[], top = 25): ProfileSummary {
  const self = new Map<string, { fn: string; where: string; ms: number }>();
  const inclusive = new Map<string, { fn: string; where: string; ms: number; own: boolean }>();
  const byCategory = new Map<string, number>();
  let busyMs = 0;
  let idleMs = 0;

  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const selfMs = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      // timeDeltas[i] is the time since the previous sample; attribute the next delta to this sample.
      const delta = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
      selfMs.set(id, (selfMs.get(id) ?? 0) + delta);
    }
    const key = (f: CallFrame): string => `${f.functionName || '(anonymous)'}@${where(f)}`;
    for (const [id, ms] of selfMs) {
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === '(idle)') {
        idleMs += ms;
        continue;
      }
      busyMs += ms;
      const k = key(frame);
      const entry = self.get(k) ?? { fn: frame.functionName || '(anonymous)', where: where(frame), ms: 0 };
      entry.ms += ms;
      self.set(k, entry);
      const c = category(frame);
      byCategory.set(c, (byCategory.get(c) ?? 0) + ms);
    }
    // Inclusive: a function's total counts once per stack even when it recurses.
    const total = new Map<number, number>();
    const totalOf = (id: number): number => {
      const cached = total.get(id);
      if (cached !== undefined) return cached;
      const node = nodes.get(id)!;
      let t = node.callFrame.functionName === '(idle)' ? 0 : selfMs.get(id) ?? 0;
      for (const c of node.children ?? []) t += totalOf(c);
      total.set(id, t);
      return t;
    };
    const onStack = new Map<string, number>();
    const walk = (id: number): void => {
      const node = nodes.get(id)!;
      const k = key(node.callFrame);
      const depth = onStack.get(k) ?? 0;
      if (depth === 0) {
        const entry = inclusive.get(k) ?? {
          fn: node.callFrame.functionName || '(anonymous)',
          where: where(node.callFrame),
          ms: 0,
          own: /^(apps|libs)\//.test(category(node.callFrame)),
        };
        entry.ms += totalOf(id);
        inclusive.set(k, entry);
      }
      onStack.set(k, depth + 1);
      for (const c of node.children ?? []) walk(c);
      onStack.set(k, depth);
    };
    const root = profile.nodes[0];
    if (root) walk(root.id);
  }

  const pct = (ms: number): number => round((100 * ms) / Math.max(busyMs, 1e-9), 1);
  return {
    busyMs: round(busyMs, 1),
    idleMs: round(idleMs, 1),
    byCategory: [...byCategory.entries()].sort((a, b) => b[1] - a[1]).map(([c, ms]) => ({ category: c, ms: round(ms, 1), pct: pct(ms) })),
    topSelf: [...self.values()].sort((a, b) => b.ms - a.ms).slice(0, top).map((e) => ({ ...e, ms: round(e.ms, 1), pct: pct(e.ms) })),
    topInclusive: [...inclusive.values()]
      .filter((e) => e.own)
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map(({ own: _own, ...e }) => ({ ...e, ms: round(e.ms, 1), pct: pct(e.ms) })),
  };
}

export function formatProfileSummary(title: string, s: ProfileSummary, rows = 25): string {
  return [
    `${title}: ${s.busyMs} ms busy (${s.idleMs} ms idle) sampled`,
    '',
    'self time by library/layer:',
    table(['category', 'ms', '%'], s.byCategory.slice(0, 20).map((c) => [c.category, c.ms, c.pct])),
    '',
    'top self-time functions:',
    table(['function', 'where', 'ms', '%'], s.topSelf.slice(0, rows).map((f) => [f.fn, f.where, f.ms, f.pct])),
    '',
    'project functions by inclusive time (apps/, libs/):',
    table(['function', 'where', 'ms', '%'], s.topInclusive.slice(0, rows).map((f) => [f.fn, f.where, f.ms, f.pct])),
  ].join('\n');
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children?: HeapNode[];
}

export interface AllocationSummary {
  /** Bytes per command over all the files. */
  readonly bytesPerCommand: number;
  readonly byCategory: Array<{ category: string; bytesPerCommand: number; pct: number }>;
  readonly topSelf: Array<{ fn: string; where: string; bytesPerCommand: number; pct: number }>;
}

/**
 * Where the garbage comes from: the `.heapprofile` files written beside the CPU profiles (sampling heap profiles that
 * count what the GCs collected too), as bytes per command by library and by allocating function. A function's "self"
 * bytes include what V8 inlined into it.
 */
export function summarizeAllocations(files: readonly string[], commands: number, top = 25): AllocationSummary {
  const self = new Map<string, { fn: string; where: string; bytes: number }>();
  const byCategory = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const stack: HeapNode[] = [(JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode }).head];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      for (const child of node.children ?? []) stack.push(child);
      if (node.selfSize === 0) continue;
      total += node.selfSize;
      const frame = node.callFrame;
      const k = `${frame.functionName || '(anonymous)'}@${where(frame)}`;
      const entry = self.get(k) ?? { fn: frame.functionName || '(anonymous)', where: where(frame), bytes: 0 };
      entry.bytes += node.selfSize;
      self.set(k, entry);
      const c = category(frame);
      byCategory.set(c, (byCategory.get(c) ?? 0) + node.selfSize);
    }
  }
  const n = Math.max(1, commands);
  const pct = (bytes: number): number => round((100 * bytes) / Math.max(total, 1), 1);
  return {
    bytesPerCommand: Math.round(total / n),
    byCategory: [...byCategory.entries()].sort((a, b) => b[1] - a[1])
      .map(([c, bytes]) => ({ category: c, bytesPerCommand: Math.round(bytes / n), pct: pct(bytes) })),
    topSelf: [...self.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, bytesPerCommand: Math.round(e.bytes / n), pct: pct(e.bytes) })),
  };
}

export function formatAllocationSummary(title: string, s: AllocationSummary, rows = 25): string {
  return [
    `${title}: ${s.bytesPerCommand} bytes allocated per command (sampled, collected objects included)`,
    '',
    'bytes per command by library/layer:',
    table(['category', 'B/cmd', '%'], s.byCategory.slice(0, 20).map((c) => [c.category, c.bytesPerCommand, c.pct])),
    '',
    'top allocating functions (self, inlined callees included):',
    table(['function', 'where', 'B/cmd', '%'], s.topSelf.slice(0, rows).map((f) => [f.fn, f.where, f.bytesPerCommand, f.pct])),
  ].join('\n');
}
