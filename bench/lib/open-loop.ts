import { Agent, request } from 'node:http';

/** One HTTP exchange on a keep-alive agent; latency from the moment the request was handed to the socket pool. */
export interface Exchange {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
  /** performance.now() when the response had been read completely. */
  readonly doneAt: number;
  /** The app's own time for the request, from its `Server-Timing: app;dur=…` header (undefined when absent). */
  readonly appMs: number | undefined;
}

function appDuration(header: string | string[] | undefined): number | undefined {
  const match = /\bapp;dur=([\d.]+)/.exec(Array.isArray(header) ? header.join(',') : (header ?? ''));
  return match ? Number(match[1]) : undefined;
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** A request to the loopback interface only; rejects on connection errors and after `timeoutMs`. */
export function exchange(
  agent: Agent,
  base: URL,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: string,
  timeoutMs = 10_000,
): Promise<Exchange> {
  if (base.hostname !== '127.0.0.1') return Promise.reject(new Error(`refusing to send to ${base.hostname}: loopback only`));
  const started = performance.now();
  return new Promise<Exchange>((resolve, reject) => {
    const req = request(
      { agent, host: base.hostname, port: base.port, method, path, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const doneAt = performance.now();
          resolve({
            status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: doneAt - started, doneAt,
            appMs: appDuration(res.headers['server-timing']),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Open-loop schedule: calls `fire(i, scheduledAt)` for i = 0, 1, … at `ratePerSec` for `seconds`, on a timer,
 * whether or not earlier requests have answered (a slow server gets the same offered load, and its queueing shows
 * in the latencies instead of lowering the rate: no coordinated omission). Resolves when the last one was fired,
 * with how late the firings were against their schedule (the load generator's own slip).
 */
export function openLoop(ratePerSec: number, seconds: number, fire: (i: number, scheduledAt: number) => void): Promise<{ fired: number; maxSlipMs: number; p99SlipMs: number }> {
  const total = Math.max(0, Math.round(ratePerSec * seconds));
  const interval = 1000 / ratePerSec;
  const slips: number[] = [];
  return new Promise((resolve) => {
    const start = performance.now();
    let fired = 0;
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / interval) + 1);
      while (fired < due) {
        const scheduledAt = start + fired * interval;
        slips.push(now - scheduledAt);
        fire(fired, scheduledAt);
        fired += 1;
      }
      if (fired < total) setTimeout(tick, Math.max(0, start + fired * interval - performance.now()));
      else {
        slips.sort((a, b) => a - b);
        resolve({ fired, maxSlipMs: slips.at(-1) ?? 0, p99SlipMs: slips[Math.floor(0.99 * (slips.length - 1))] ?? 0 });
      }
    };
    tick();
  });
}
