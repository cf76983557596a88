#!/usr/bin/env node
// `npm start` (and `npm run start:projector`, `npm run import`): build the app when the compiled output is missing or older than any source, then run it.
// Keeps `npm start` a single command from a clean clone without paying for a build on every start.
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const { existsSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const app = process.argv[2] || 'api';
const entry = join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');

function newestSource(dir) {
  let newest = 0;
  for (const entryName of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entryName.name);
    if (entryName.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entryName.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

// The console (apps/console) is not part of the Nest apps' build: its own step below.
const appDirs = readdirSync(join(root, 'apps'), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'console');
const sources = Math.max(...appDirs.map((d) => newestSource(join(root, 'apps', d.name))), newestSource(join(root, 'libs')));
if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
  process.stderr.write(`building ${app}...\n`);
  const build = spawnSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// The agent console the API serves at /console (apps/console, compiled by tsc alone), built likewise when missing or stale.
const consoleIndex = join(root, 'dist', 'console', 'index.html');
const consoleSources = Math.max(newestSource(join(root, 'apps', 'console')), ...readdirSync(join(root, 'apps', 'console', 'public')).map((f) => statSync(join(root, 'apps', 'console', 'public', f)).mtimeMs));
if (app === 'api' && (!existsSync(consoleIndex) || statSync(consoleIndex).mtimeMs < consoleSources)) {
  process.stderr.write('building the console...\n');
  const build = spawnSync(process.execPath, [join(__dirname, 'build-console.js')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Memory bounds of the long-running processes (scripts/node-flags.json); NODE_OPTIONS with its own heap size wins.
const flags = require('./node-flags').nodeFlagsFor(app, process.env);
const child = spawn(process.execPath, ['--enable-source-maps', ...flags, entry, ...process.argv.slice(3)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
