import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, type Principal, type Role } from './principal';

interface TokenEntry {
  token?: string;
  tokenSha256?: string;
  id: string;
  role: Role;
  customerId?: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

function parseEntries(json: string, source: string): TokenEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new Error(`${source}: expected a JSON array of token entries`);
  return raw.map((entry: unknown, i) => {
    const e = entry as Partial<TokenEntry>;
    if (typeof e !== 'object' || e === null) throw new Error(`${source}[${i}]: not an object`);
    if (typeof e.id !== 'string' || e.id === '') throw new Error(`${source}[${i}]: "id" must be a non-empty string`);
    if (!ROLES.includes(e.role as Role)) throw new Error(`${source}[${i}]: "role" must be one of ${ROLES.join(', ')}`);
    if (typeof e.token !== 'string' && typeof e.tokenSha256 !== 'string') {
      throw new Error(`${source}[${i}]: needs "token" or "tokenSha256"`);
    }
    if (e.role === 'customer' && typeof e.customerId !== 'string') {
      throw new Error(`${source}[${i}]: role customer needs "customerId"`);
    }
    return e as TokenEntry;
  });
}

/**
 * Bearer tokens → principals. Only SHA-256 digests are kept in memory, so a file may hold digests instead of
 * secrets (`tokenSha256`), and a lookup is a map access by digest (no timing leak on the secret's prefix).
 */
export class TokenRegistry {
  private readonly byDigest = new Map<string, Principal>();

  constructor(entries: TokenEntry[]) {
    for (const e of entries) {
      const digest = (e.tokenSha256 ?? sha256(e.token ?? '')).toLowerCase();
      this.byDigest.set(digest, { id: e.id, role: e.role, ...(e.customerId ? { customerId: e.customerId } : {}) });
    }
  }

  lookup(token: string): Principal | undefined {
    return this.byDigest.get(sha256(token));
  }

  get size(): number {
    return this.byDigest.size;
  }

  static fromJson(json: string, source: string): TokenRegistry {
    return new TokenRegistry(parseEntries(json, source));
  }
}

export interface TokenSetup {
  registry: TokenRegistry;
  /** Set when an admin token was created on this start: printed once, then only in the file. */
  createdAdminToken?: string;
  adminTokenFile?: string;
}

/**
 * Token configuration, in order: AUTH_TOKENS_FILE, AUTH_TOKENS (JSON), else the embedded admin token under
 * DATA_DIR (created on first start, mode 600).
 */
export function setUpTokens(config: { authTokensFile?: string; authTokensJson?: string; dataDir: string }): TokenSetup {
  if (config.authTokensFile) {
    return { registry: TokenRegistry.fromJson(readFileSync(config.authTokensFile, 'utf8'), config.authTokensFile) };
  }
  if (config.authTokensJson) return { registry: TokenRegistry.fromJson(config.authTokensJson, 'AUTH_TOKENS') };
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'admin-token');
  let created: string | undefined;
  if (!existsSync(file)) {
    created = randomBytes(32).toString('base64url');
    writeFileSync(file, `${created}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const token = readFileSync(file, 'utf8').trim();
  return {
    registry: new TokenRegistry([{ token, id: 'admin', role: 'admin' }]),
    createdAdminToken: created,
    adminTokenFile: file,
  };
}
