import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';

/** The variable that names the key-encryption key's file (docs/security.md). */
export const KEK_VARIABLE = 'DATA_KEY_ENCRYPTION_KEY_FILE';

/** A stored data key could not be unwrapped: wrong key-encryption key, or the bytes were tampered with or swapped. */
export class DataKeyUnwrapFailed extends Error {
  override readonly name = 'DataKeyUnwrapFailed';
  constructor(readonly subject: string, detail: string, options?: { cause?: unknown }) {
    super(`the data key of subject ${subject} cannot be unwrapped (${detail}); is ${KEK_VARIABLE} the key it was wrapped with?`, options);
  }
}

/**
 * The stored keys were wrapped by another KEK than the one configured (a wrong or regenerated file): found at start,
 * by unwrapping one stored key, so the process refuses to run instead of failing every read of personal data.
 */
export function wrongKekError(where: string, storedKekId: string | null | undefined, kek: KeyEncryptionKey): Error {
  return new Error(
    `the data keys in ${where} were wrapped by another key-encryption key (${storedKekId ?? 'unknown'}; the configured one is ${kek.id}): `
    + `${KEK_VARIABLE} (embedded default DATA_DIR/data-key-encryption-key) must be the file they were stored with; refusing to start`,
  );
}

const WRAP_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Envelope encryption of the per-customer data keys: a key-encryption key (KEK) that never leaves the process wraps
 * each data key with AES-256-GCM, the subject id as additional authenticated data, so a wrapped key copied onto
 * another subject's record fails to unwrap instead of decrypting the wrong customer's fields. A dump of the key store
 * alone (or of the database holding it) reveals no data key.
 *
 * Wrapped form: version (1 byte) | IV (12) | tag (16) | wrapped key (32) = 61 bytes. `id` is a fingerprint of the
 * KEK (HMAC, not the key) stored beside each wrapped key, so that a rotation can tell which keys it has rewrapped.
 */
export class KeyEncryptionKey {
  readonly id: string;

  private constructor(private readonly key: Buffer) {
    this.id = createHmac('sha256', key).update('crm data key encryption key id').digest('hex').slice(0, 16);
  }

  static fromBytes(key: Buffer): KeyEncryptionKey {
    if (key.length !== 32) throw new Error(`a key-encryption key is 32 bytes, got ${key.length}`);
    return new KeyEncryptionKey(Buffer.from(key));
  }

  static generate(): KeyEncryptionKey {
    return new KeyEncryptionKey(randomBytes(32));
  }

  /** The file's contents: 32 random bytes, base64 (whitespace around it ignored). */
  static parse(text: string, source: string): KeyEncryptionKey {
    const trimmed = text.trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new Error(`${source} does not hold base64 (32 random bytes, base64)`);
    const bytes = Buffer.from(trimmed, 'base64');
    if (bytes.length !== 32) throw new Error(`${source} holds ${bytes.length} bytes; a key-encryption key is 32 random bytes, base64`);
    return new KeyEncryptionKey(bytes);
  }

  /** Reads the file named by DATA_KEY_ENCRYPTION_KEY_FILE; every failure names the variable and the file. */
  static readFile(file: string): KeyEncryptionKey {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new Error(`${KEK_VARIABLE} ${file} cannot be read: ${(cause as Error).message}`, { cause });
    }
    return KeyEncryptionKey.parse(text, `${KEK_VARIABLE} ${file}`);
  }

  /**
   * The embedded mode's KEK: read from `file`, or created there (mode 600) when absent. Created under a temporary
   * name and linked into place, so two processes starting together (the API and its projector thread) agree on one
   * key and neither reads a half-written file.
   */
  static readOrCreateFile(file: string): KeyEncryptionKey {
    try {
      return KeyEncryptionKey.parse(readFileSync(file, 'utf8'), file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(temp, 0o600);
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temp);
    }
    return KeyEncryptionKey.parse(readFileSync(file, 'utf8'), file);
  }

  wrap(subject: string, dataKey: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(subject, 'utf8'));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return Buffer.concat([Buffer.of(WRAP_VERSION), iv, cipher.getAuthTag(), body]);
  }

  unwrap(subject: string, wrapped: Buffer): Buffer {
    if (wrapped.length < 1 + IV_BYTES + TAG_BYTES + 1 || wrapped[0] !== WRAP_VERSION) {
      throw new DataKeyUnwrapFailed(subject, 'not a wrapped key of a known version');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, wrapped.subarray(1, 1 + IV_BYTES));
      decipher.setAAD(Buffer.from(subject, 'utf8'));
      decipher.setAuthTag(wrapped.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(wrapped.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch (cause) {
      throw new DataKeyUnwrapFailed(subject, 'authentication failed', { cause });
    }
  }
}
