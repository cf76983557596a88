import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './child-server';

/** One benchmark, run by name from bench/run.ts. */
export interface Bench {
  readonly name: string;
  readonly description: string;
  run(): Promise<BenchOutcome>;
}

export interface BenchOutcome {
  /** false: the bench saw a failure (e.g. non-2xx responses); `npm run bench` exits non-zero. */
  readonly ok: boolean;
  /** The compact, machine-readable result printed as `BENCH_RESULT {...}`. */
  readonly summary: Record<string, unknown>;
}

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** Writes bench/results/<name>-<timestamp>.json (not committed) and returns its repo-relative path. */
export function writeResultFile(name: string, startedAt: Date, result: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}-${timestamp(startedAt)}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return relative(REPO_ROOT, file);
}

/** What the numbers were measured on: they are only comparable within one run on one machine. */
export function machineInfo(): Record<string, unknown> {
  const git = (...args: string[]): string | undefined => {
    try {
      return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryMb: Math.round(totalmem() / 2 ** 20),
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
    gitCommit: git('rev-parse', '--short', 'HEAD'),
    gitDirty: (git('status', '--porcelain', '--untracked-files=no') ?? '') !== '',
  };
}

export function envNumber(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${raw}"`);
  return n;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The closing lines of a bench's report: where its result file is, and what failed. */
export function logOutcome(log: (line: string) => void, file: string, failures: readonly string[]): void {
  log('');
  log(`results → ${file}`);
  if (failures.length === 0) return;
  log('');
  log(`FAIL: ${failures.length} problem(s):`);
  for (const f of failures) log(`  - ${f}`);
}
