import { readFileSync } from 'node:fs';
import { verifyAuditExport } from '@crm/runtime';
import { parseVerifyArgs, USAGE } from './args';

/**
 * `npm run audit:verify -- <export.ndjson> [--public-key <key.pem>]`: checks the hash chain and the signature of an
 * audit export and names the first line that was modified, removed, inserted or reordered. Exit 0 when intact.
 */
function main(argv: string[]): number {
  const args = parseVerifyArgs(argv);
  if (!args) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { file, publicKeyFile: keyFile } = args;
  const result = verifyAuditExport(readFileSync(file, 'utf8'), keyFile ? readFileSync(keyFile, 'utf8') : undefined);
  if (result.ok) {
    process.stdout.write(`OK: ${result.events} events, chain intact, signed by key ${result.keyId}` +
      `${keyFile ? ' (the trusted key given)' : ' (key taken from the file: pass --public-key to check who signed it)'}\n`);
    return 0;
  }
  process.stdout.write(`TAMPERED: line ${result.line}: ${result.reason}\n`);
  return 1;
}

process.exitCode = main(process.argv.slice(2));
