import * as nodeCrypto from 'node:crypto';

/** Marks a sealed personal field, and its format's version: `enc:v1:` + base64(iv | tag | ciphertext of the JSON value). */
export const SEALED_PREFIX = 'enc:v1:';

export interface FieldSealer {
  /** AES-256-GCM of the value's JSON, a fresh random 96-bit IV, `aad` (the subject) as additional data. */
  seal(key: Buffer, aad: Buffer, value: unknown): string;
}

/**
 * The one implementation of the `enc:v1:` envelope, for the event loop (fieldSealer below) and for the sealing threads
 * (sealingWorkerSource). The threads run it from its own source text, so it must stand alone: nothing from this
 * module's scope, only its arguments and globals (Buffer, JSON). That is also why the prefix is an argument.
 * Source text rather than a worker file: under ts-node and ts-jest there is no .js beside this file, and loading
 * ts-node into each thread cost ~50 MB.
 */
/* istanbul ignore next: coverage counters would not exist in the thread that runs this source */
export function makeFieldSealer(crypto: Pick<typeof nodeCrypto, 'createCipheriv' | 'randomFillSync'>, prefix: string): FieldSealer {
  // IVs drawn in bulk: one syscall per 512 encryptions.
  const ivPool = Buffer.alloc(12 * 512);
  let ivOffset = ivPool.length;
  /** A view of the pool, valid until the next refill: used at once (createCipheriv copies it, seal copies it out). */
  const nextIv = (): Buffer => {
    if (ivOffset >= ivPool.length) {
      crypto.randomFillSync(ivPool);
      ivOffset = 0;
    }
    const iv = ivPool.subarray(ivOffset, ivOffset + 12);
    ivOffset += 12;
    return iv;
  };
  return {
    // The parts are copied once into the sealed bytes (GCM's final() returns none, but is kept): the command path's
    // heap profile showed two concatenations and an IV copy per field.
    seal(key, aad, value) {
      const iv = nextIv();
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad);
      const body = cipher.update(JSON.stringify(value), 'utf8');
      const rest = cipher.final();
      const sealed = Buffer.allocUnsafe(28 + body.length + rest.length);
      iv.copy(sealed, 0);
      cipher.getAuthTag().copy(sealed, 12);
      body.copy(sealed, 28);
      rest.copy(sealed, 28 + body.length);
      return prefix + sealed.toString('base64');
    },
  };
}

/** A sealing thread's request: the keys of the subjects it names, and per job the values to seal with one of them. */
export interface SealingRequest {
  readonly id: number;
  readonly keys: Map<string, Uint8Array>;
  readonly jobs: ReadonlyArray<{ readonly subject: string; readonly values: readonly unknown[] }>;
}

export type SealingAnswer = { readonly id: number; readonly sealed: string[][] } | { readonly id: number; readonly error: string };

/** The sealing thread's loop: a request in, the sealed values of each job (or why not) out. Stands alone, as above. */
/* istanbul ignore next: runs in the sealing threads from its source text */
export function serveSealingRequests(
  port: { on(event: 'message', listener: (request: SealingRequest) => void): unknown; postMessage(answer: SealingAnswer): void },
  sealer: FieldSealer,
): void {
  port.on('message', ({ id, keys, jobs }) => {
    try {
      const bySubject = new Map<string, { key: Buffer; aad: Buffer }>();
      for (const [subject, key] of keys) bySubject.set(subject, { key: Buffer.from(key), aad: Buffer.from(subject, 'utf8') });
      const sealed = jobs.map(({ subject, values }) => {
        const found = bySubject.get(subject);
        if (!found) throw new Error(`no key sent for ${subject}`);
        return values.map((v) => sealer.seal(found.key, found.aad, v));
      });
      port.postMessage({ id, sealed });
    } catch (error) {
      port.postMessage({ id, error: String(error) });
    }
  });
}

/** The sealer of the event loop (the API, the importer without threads, the history generator). */
export const fieldSealer: FieldSealer = makeFieldSealer(nodeCrypto, SEALED_PREFIX);

/**
 * What a sealing thread evaluates: the two functions above from their own (compiled) text, so that ts-jest, ts-node and
 * the build all run the code this module runs, and the thread loads nothing but node:crypto and node:worker_threads.
 */
export function sealingWorkerSource(): string {
  return [
    `const sealer = (${makeFieldSealer.toString()})(require('node:crypto'), ${JSON.stringify(SEALED_PREFIX)});`,
    `(${serveSealingRequests.toString()})(require('node:worker_threads').parentPort, sealer);`,
  ].join('\n');
}
