export interface VerifyArgs {
  readonly file: string;
  readonly publicKeyFile?: string;
}

export const USAGE = 'usage: npm run audit:verify -- <export.ndjson> [--public-key <ed25519-public-key.pem>]';

/**
 * `<export.ndjson> [--public-key <key.pem>]` in either order; undefined when the arguments do not fit (the caller
 * prints the usage). Only the value right after `--public-key` is the key: with no key given, every position is a
 * candidate for the file (an index test against "after the flag" excluded position 0 then).
 */
export function parseVerifyArgs(argv: readonly string[]): VerifyArgs | undefined {
  let file: string | undefined;
  let publicKeyFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--public-key') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--') || publicKeyFile !== undefined) return undefined;
      publicKeyFile = value;
      i++;
    } else if (arg.startsWith('--') || file !== undefined) {
      return undefined;
    } else {
      file = arg;
    }
  }
  return file === undefined ? undefined : { file, publicKeyFile };
}
