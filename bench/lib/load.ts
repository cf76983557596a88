import autocannon from 'autocannon';
import { percentileSorted, round } from './stats';

export interface LoadOptions {
  /** http://127.0.0.1:port — the benches only ever send traffic to the loopback interface. */
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly method: string;
  /** Called once per request: the path of that request (e.g. round-robin over streams). */
  readonly nextPath: () => string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface LoadResult {
  readonly seconds: number;
  /** Only 2xx responses count as done commands. */
  readonly ok: number;
  readonly reqPerSec: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  /** Milliseconds, from every 2xx response's own time (not autocannon's 1 ms histogram buckets). */
  readonly latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
}

/** Closed-loop load: `connections` keep-alive connections, each sends its next request when the last one answered. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(options.url)) throw new Error(`refusing to load ${options.url}: loopback only`);
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  return new Promise<LoadResult>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        pipelining: 1,
        timeout: 10,
        requests: [
          {
            method: options.method,
            headers: options.headers,
            body: options.body,
            setupRequest: (request) => ({ ...request, path: options.nextPath() }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const sorted = Float64Array.from(latencies).sort();
        const sum = latencies.reduce((a, b) => a + b, 0);
        resolve({
          seconds: round(seconds, 3),
          ok,
          reqPerSec: round(ok / seconds, 1),
          non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          latencyMs: {
            mean: round(sum / Math.max(1, latencies.length), 3),
            p50: round(percentileSorted(sorted, 50), 3),
            p90: round(percentileSorted(sorted, 90), 3),
            p99: round(percentileSorted(sorted, 99), 3),
            max: round(sorted[sorted.length - 1] ?? Number.NaN, 3),
          },
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) {
        ok += 1;
        latencies.push(responseTimeMs);
      } else {
        non2xx += 1;
      }
    });
  });
}
