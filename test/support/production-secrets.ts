import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What production mode (EVENTSTORE_CONNECTION_STRING and MONGODB_URI) takes from files named by configuration instead
 * of creating under DATA_DIR: the data keys' key-encryption key and the audit signing key. Written into `dir` (a
 * test's own temp dir, outside any DATA_DIR); replicas of one deployment share them, as they would share a secret.
 */
export function writeProductionSecrets(dir: string): { DATA_KEY_ENCRYPTION_KEY_FILE: string; AUDIT_SIGNING_KEY_FILE: string } {
  const kekFile = join(dir, 'data-key-encryption-key.b64');
  writeFileSync(kekFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const auditFile = join(dir, 'audit-signing-key.pem');
  writeFileSync(auditFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { DATA_KEY_ENCRYPTION_KEY_FILE: kekFile, AUDIT_SIGNING_KEY_FILE: auditFile };
}
