import { forkTypeScript } from './child-server';

/** What a worker child (bench/workers/*.worker.ts, see worker-main.ts) sends back: one result or one error. */
export type FromWorker<T> = { type: 'result'; result: T } | { type: 'error'; message: string };

/**
 * Runs `script` once in its own process (ts-node + the @crm/* path aliases, like the server children) and resolves
 * with the result it reports. A worker is a batch job, not a server: it measures its own work (time, peak RSS) and
 * exits. Killed (SIGKILL, by its pid) after `timeoutMs`, or when the bench exits early (lib/cleanup.ts).
 */
export function runWorker<T>(options: { name: string; script: string; env: Record<string, string>; timeoutMs: number; nodeFlags?: readonly string[] }): Promise<T> {
  const { child, stderrTail } = forkTypeScript(options);
  return new Promise<T>((resolveResult, rejectResult) => {
    let outcome: FromWorker<T> | undefined;
    const timer = setTimeout(() => {
      rejectResult(new Error(`${options.name}: no result after ${Math.round(options.timeoutMs / 1000)} s, killed`));
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('message', (message: FromWorker<T>) => {
      outcome = message;
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (outcome?.type === 'result') resolveResult(outcome.result);
      else if (outcome?.type === 'error') rejectResult(new Error(`${options.name}: ${outcome.message}`));
      else {
        const tail = stderrTail();
        rejectResult(new Error(`${options.name}: exited without a result (code ${code}, signal ${signal})${tail ? `; stderr:\n${tail}` : ''}`));
      }
    });
  });
}
