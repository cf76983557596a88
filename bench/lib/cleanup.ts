import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Everything a bench starts or creates is registered here, so it is removed on every way out: normal end, thrown
 * error, Ctrl-C / SIGTERM, or an uncaught exception. Children are ended by their own pid, never by name.
 */
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let installed = false;

export function trackChild(child: ChildProcess): void {
  installHandlers();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function makeTempDir(prefix: string): { dir: string; remove: () => void } {
  installHandlers();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return {
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
}

/** Synchronous last resort: SIGKILL every child still alive, delete every temp dir still there. */
export function cleanupNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      cleanupNow();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bench: uncaught ${error.stack ?? String(error)}\n`);
    cleanupNow();
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`bench: unhandled rejection ${reason instanceof Error ? reason.stack : String(reason)}\n`);
    cleanupNow();
    process.exit(1);
  });
}
