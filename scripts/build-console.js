#!/usr/bin/env node
// `npm run build:console`: the agent console (apps/console) compiled by tsc alone into dist/console, beside its static
// files. No bundler: the browser loads the ES modules tsc writes (a handful of small files, served by the API).
'use strict';
const { spawnSync } = require('node:child_process');
const { cpSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const out = join(root, 'dist', 'console');
rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'apps', 'console', 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
cpSync(join(root, 'apps', 'console', 'public'), out, { recursive: true });
