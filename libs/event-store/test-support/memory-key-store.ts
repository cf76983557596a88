import { randomBytes } from 'node:crypto';
import type { KeyStore, SubjectKey } from '../src/crypto/key-store';

/** A key store in memory for specs of the encrypting store: a fresh random key per subject, erasure marks it. */
export class MemoryKeyStore implements KeyStore {
  /** Public so a spec can read a subject's key directly. */
  readonly keys = new Map<string, SubjectKey>();
  async keyFor(subject: string): Promise<SubjectKey> {
    if (!this.keys.has(subject)) this.keys.set(subject, randomBytes(32));
    return this.keys.get(subject)!;
  }
  async existingKeys(subjects: Iterable<string>): Promise<Map<string, SubjectKey>> {
    return new Map([...subjects].flatMap((s) => { const key = this.keys.get(s); return key ? [[s, key] as const] : []; }));
  }
  async erase(subject: string): Promise<boolean> {
    this.keys.set(subject, 'erased');
    return true;
  }
  async erasedSubjects(): Promise<string[]> {
    return [...this.keys].filter(([, key]) => key === 'erased').map(([subject]) => subject);
  }
  async close(): Promise<void> {}
}
