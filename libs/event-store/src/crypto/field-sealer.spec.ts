import { describe, expect, it } from '@jest/globals';
import * as nodeCrypto from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { fieldSealer, makeFieldSealer, SEALED_PREFIX, sealingWorkerSource, type SealingAnswer, type SealingRequest } from './field-sealer';

const MARKER = 'Ærøskøbing-3c9e51d7';
const key = nodeCrypto.randomBytes(32);
const aad = Buffer.from('customer-c1', 'utf8');

/** The envelope opened by hand, byte layout spelled out: iv (12) | tag (16) | ciphertext of the JSON value. */
function openByHand(sealed: string, withKey: Buffer, withAad: Buffer): unknown {
  expect(sealed.startsWith(SEALED_PREFIX)).toBe(true);
  const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
  const decipher = nodeCrypto.createDecipheriv('aes-256-gcm', withKey, raw.subarray(0, 12));
  decipher.setAAD(withAad);
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as unknown;
}

describe('field sealer (the enc:v1: envelope of the store and of the sealing threads)', () => {
  it('seals a value as enc:v1: + base64(iv | tag | ciphertext), bound to its subject, a fresh IV each time', () => {
    const value = { text: MARKER, n: 1 };
    const a = fieldSealer.seal(key, aad, value);
    const b = fieldSealer.seal(key, aad, value);
    expect(a).not.toBe(b);
    expect(a).not.toContain(MARKER);
    expect(openByHand(a, key, aad)).toEqual(value);
    expect(Buffer.from(a.slice(SEALED_PREFIX.length), 'base64').subarray(0, 12)).not.toEqual(Buffer.from(b.slice(SEALED_PREFIX.length), 'base64').subarray(0, 12));
    expect(() => openByHand(a, key, Buffer.from('customer-c2', 'utf8'))).toThrow();
  });

  it('draws IVs in bulk but never repeats one across pool refills', () => {
    const sealer = makeFieldSealer(nodeCrypto, SEALED_PREFIX);
    const ivs = new Set<string>();
    for (let i = 0; i < 1_100; i += 1) ivs.add(Buffer.from(sealer.seal(key, aad, i).slice(SEALED_PREFIX.length), 'base64').subarray(0, 12).toString('hex'));
    expect(ivs.size).toBe(1_100);
  });

  it('is what the threads run: their source is the sealer\'s own text, and it stands alone (no module scope)', () => {
    const source = sealingWorkerSource();
    expect(source).toContain(makeFieldSealer.toString());
    // Evaluated in a bare context with only what a thread has: a require for node: modules, Buffer, JSON.
    const answers: SealingAnswer[] = [];
    let onMessage: ((request: SealingRequest) => void) | undefined;
    const port = { on: (_event: string, listener: (request: SealingRequest) => void) => (onMessage = listener), postMessage: (a: SealingAnswer) => answers.push(a) };
    const required: string[] = [];
    const requireShim = (name: string): unknown => {
      required.push(name);
      if (name === 'node:crypto') return nodeCrypto;
      if (name === 'node:worker_threads') return { parentPort: port };
      throw new Error(`the sealing thread's source asked for ${name}`);
    };
    runInNewContext(source, { require: requireShim, Buffer });
    expect(required.sort()).toEqual(['node:crypto', 'node:worker_threads']);
    onMessage?.({ id: 7, keys: new Map([['customer-c1', key]]), jobs: [{ subject: 'customer-c1', values: [MARKER, { nested: MARKER }] }] });
    const [answer] = answers;
    expect(answer && 'sealed' in answer ? answer.sealed[0]?.map((s) => openByHand(s, key, aad)) : answer).toEqual([MARKER, { nested: MARKER }]);
    onMessage?.({ id: 8, keys: new Map(), jobs: [{ subject: 'customer-c9', values: ['x'] }] });
    expect(answers[1]).toEqual({ id: 8, error: expect.stringContaining('customer-c9') as unknown });
  });

  it('runs in a real thread with no Node flags (as SealingThreads starts it) and seals what the event loop opens', async () => {
    const worker = new Worker(sealingWorkerSource(), { eval: true, execArgv: [] });
    try {
      const answer = await new Promise<SealingAnswer>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        const request: SealingRequest = { id: 1, keys: new Map([['customer-c1', key]]), jobs: [{ subject: 'customer-c1', values: [MARKER] }] };
        worker.postMessage(request);
      });
      expect('sealed' in answer && openByHand(answer.sealed[0]![0]!, key, aad)).toBe(MARKER);
    } finally {
      await worker.terminate();
    }
  });
});
