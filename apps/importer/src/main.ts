import { ImportInputError, IMPORT_KINDS, isImportKind, runImport } from './run-import';
import { StderrProgress } from './progress';
import { formatSummary } from './summary';

/**
 * `npm run import -- <kind> <file> [--rejects <file>] [--concurrency <n>]`: imports a source file into the event
 * store the environment configures (DATA_DIR, EVENTSTORE_CONNECTION_STRING, … as for the API). Progress on stderr;
 * the summary on stdout, as a table and as one `IMPORT_SUMMARY {json}` line. Exit 0 when the import completed
 * (rejected rows included), 2 on a usage or input error, 1 when the store failed.
 */
const USAGE = `usage: npm run import -- <kind> <file> [--rejects <file>] [--concurrency <n>]
  kinds: ${IMPORT_KINDS.join(', ')}
  online-retail   UCI Online Retail CSV (or .csv.gz): customers, purchases, returns from cancellations
  incidents       ServiceNow incident event log CSV (or .csv.gz): complaints with their history and SLA breaches
  The store is the one the environment configures (DATA_DIR=./data by default, EVENTSTORE_CONNECTION_STRING, ...).
`;

interface Args {
  kind: string;
  file: string;
  rejects?: string;
  concurrency?: number;
}

function parseArgs(argv: readonly string[]): Args | string {
  const positional: string[] = [];
  const args: Partial<Args> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--help' || a === '-h') return '';
    if (a === '--rejects') {
      const v = argv[++i];
      if (!v) return '--rejects needs a file';
      args.rejects = v;
    } else if (a === '--concurrency') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 10_000) return '--concurrency needs an integer from 1 to 10000';
      args.concurrency = v;
    } else if (a.startsWith('--')) {
      return `unknown option ${a}`;
    } else {
      positional.push(a);
    }
  }
  const [kind, file, ...extra] = positional;
  if (!kind || !file || extra.length > 0) return 'expected <kind> <file>';
  return { ...args, kind, file };
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(args ? `${args}\n\n${USAGE}` : USAGE);
    return args ? 2 : 0;
  }
  if (!isImportKind(args.kind)) {
    process.stderr.write(`unknown kind ${args.kind}\n\n${USAGE}`);
    return 2;
  }
  try {
    const summary = await runImport({
      kind: args.kind, file: args.file, rejectsFile: args.rejects, concurrency: args.concurrency, progress: new StderrProgress(),
    });
    process.stdout.write(formatSummary(summary));
    process.stdout.write(`IMPORT_SUMMARY ${JSON.stringify(summary)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ImportInputError) {
      process.stderr.write(`import: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`import failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`import failed: ${String(error)}\n`);
    process.exit(1);
  },
);
