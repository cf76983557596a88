'use strict';
/**
 * Loads the bench servers' TypeScript the way `npm run build` compiles it (TypeScript's own transpileModule with the
 * repository's compiler options, one file at a time as ts-node's transpile-only does), without ts-node itself:
 * registering ts-node loads its REPL, and Node's `repl` loads `domain`, after which every EventEmitter
 * construction and emit in the process goes through domain's wrappers (node:domain in the profiles: ~1–2 % of a
 * command's CPU). `npm start` runs compiled JavaScript and never loads it, so a bench server must not either.
 * Used with `-r tsconfig-paths/register` for the @crm/* aliases.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const ts = require('typescript');

const root = join(__dirname, '..', '..');
const config = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
const { options } = ts.convertCompilerOptionsFromJson(config.config.compilerOptions, root);
const compilerOptions = { ...options, sourceMap: false, inlineSourceMap: false, declaration: false, incremental: false, noEmit: false };

require.extensions['.ts'] = (module, filename) => {
  const source = readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
