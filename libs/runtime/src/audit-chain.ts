import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Tamper-evident export format (NDJSON), version 1:
 *   line 0        { kind: "header", seq: 0, ..., prevHash: GENESIS, hash }
 *   line 1..n     { kind: "event",  seq: i, event: {...}, prevHash: hash of line i-1, hash }
 *   last line     { kind: "digest", count: n, lastHash, keyId, publicKey, signature }
 * hash = sha256(prevHash + "\n" + canonical JSON of the line without `hash`). The signature (Ed25519) covers
 * "crm-audit-export:v1\n<count>\n<lastHash>". Changing, removing, inserting or reordering any line breaks the chain at
 * that line; re-chaining after a change breaks the signature, which only the holder of the private key can make.
 */
export const GENESIS = '0'.repeat(64);
const SIGNED_PREFIX = 'crm-audit-export:v1';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function chainHash(prevHash: string, line: Record<string, unknown>): string {
  return createHash('sha256').update(`${prevHash}\n${canonicalJson(line)}`).digest('hex');
}

export interface AuditSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;
  sign(count: number, lastHash: string): string;
}

export function signerFromPrivateKey(privateKey: KeyObject): AuditSigner {
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const keyId = createHash('sha256').update(publicKeyPem).digest('hex').slice(0, 16);
  return {
    keyId,
    publicKeyPem,
    sign: (count, lastHash) => sign(null, Buffer.from(`${SIGNED_PREFIX}\n${count}\n${lastHash}`), privateKey).toString('base64'),
  };
}

/** AUDIT_SIGNING_KEY_FILE (PKCS#8 PEM, Ed25519), else a key created once under DATA_DIR (mode 600). */
export function loadAuditSigner(config: { auditSigningKeyFile?: string; dataDir: string }): AuditSigner {
  const file = config.auditSigningKeyFile ?? join(config.dataDir, 'audit-signing-key.pem');
  if (!existsSync(file)) {
    if (config.auditSigningKeyFile) throw new Error(`AUDIT_SIGNING_KEY_FILE ${file} does not exist`);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    writeFileSync(join(config.dataDir, 'audit-signing-key.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  }
  return signerFromPrivateKey(createPrivateKey(readFileSync(file)));
}

export type VerifyResult =
  | { ok: true; events: number; keyId: string }
  | { ok: false; line: number; reason: string };

/**
 * Verifies an export. `trustedPublicKeyPem`: the key the verifier trusts (else the one in the file is used, which
 * proves integrity but not origin — say so to the user).
 */
export function verifyAuditExport(text: string, trustedPublicKeyPem?: string): VerifyResult {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return { ok: false, line: 1, reason: 'export has no header and digest' };
  let prevHash = GENESIS;
  for (let i = 0; i < lines.length - 1; i++) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(lines[i] ?? '') as Record<string, unknown>;
    } catch {
      return { ok: false, line: i + 1, reason: 'not valid JSON' };
    }
    const { hash, ...rest } = parsed;
    if (rest['seq'] !== i) return { ok: false, line: i + 1, reason: `sequence ${String(rest['seq'])} where ${i} was expected (line removed, inserted or reordered)` };
    if (rest['prevHash'] !== prevHash) return { ok: false, line: i + 1, reason: 'prevHash does not match the previous line (line removed, inserted or reordered)' };
    if (chainHash(prevHash, rest) !== hash) return { ok: false, line: i + 1, reason: 'content does not match its hash (line modified)' };
    prevHash = String(hash);
  }
  let digest: Record<string, unknown>;
  try {
    digest = JSON.parse(lines[lines.length - 1] ?? '') as Record<string, unknown>;
  } catch {
    return { ok: false, line: lines.length, reason: 'digest line is not valid JSON' };
  }
  if (digest['kind'] !== 'digest') return { ok: false, line: lines.length, reason: 'last line is not the signed digest (export truncated)' };
  const count = lines.length - 2;
  if (digest['count'] !== count) return { ok: false, line: lines.length, reason: `digest counts ${String(digest['count'])} events, the file has ${count}` };
  if (digest['lastHash'] !== prevHash) return { ok: false, line: lines.length, reason: 'digest does not sign the last line of the chain' };
  const publicKeyPem = trustedPublicKeyPem ?? String(digest['publicKey']);
  const good = verify(null, Buffer.from(`${SIGNED_PREFIX}\n${count}\n${prevHash}`), createPublicKey(publicKeyPem), Buffer.from(String(digest['signature']), 'base64'));
  if (!good) return { ok: false, line: lines.length, reason: 'signature is not valid for this key' };
  return { ok: true, events: count, keyId: String(digest['keyId']) };
}
