/**
 * Projects so a developer can run one layer. `npm test` runs unit, contract and e2e; `faults` (a real full disk on a
 * tmpfs: root, a mount and a build) runs only when selected (`npm run test:faults`): `--selectProjects` picks projects
 * by displayName, and without it Jest runs every project, so `faults` is listed only when asked for (by name, or by a
 * path under test/faults). `multi` (separate API and projector processes on the servers or their doubles, killed
 * with SIGKILL: `npm run test:multi`) likewise.
 */
const moduleNameMapper = {
  '^@crm/domain$': '<rootDir>/libs/domain/src',
  '^@crm/domain/(.*)$': '<rootDir>/libs/domain/src/$1',
  '^@crm/event-store$': '<rootDir>/libs/event-store/src',
  '^@crm/event-store/(.*)$': '<rootDir>/libs/event-store/src/$1',
  '^@crm/read-models$': '<rootDir>/libs/read-models/src',
  '^@crm/read-models/(.*)$': '<rootDir>/libs/read-models/src/$1',
  '^@crm/runtime$': '<rootDir>/libs/runtime/src',
  '^@crm/runtime/(.*)$': '<rootDir>/libs/runtime/src/$1',
};
// content-disposition 3 (through @fastify/static, which serves the Swagger UI) is ESM-only; Node 20 can require
// it, Jest's module runtime cannot, so Jest transpiles that one package.
const transform = {
  '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  'node_modules/content-disposition/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true } }],
};
const transformIgnorePatterns = ['/node_modules/(?!content-disposition/)'];
// Jest's 5 s default per test and hook is shorter than starting a real app (Nest, SQLite, a worker thread) on a 2-core
// machine under load: a clean CI run with other work beside it timed out hooks that finish in under a second when idle.
// Tests wait on conditions with their own bounds; this only bounds a test that hangs.
const base = {
  rootDir: __dirname, moduleFileExtensions: ['ts', 'js', 'json'], testEnvironment: 'node', transform, transformIgnorePatterns, moduleNameMapper,
};
/** A project listed only when selected by name (`--selectProjects <name>`) or by a path under test/<name>. */
const selects = (name) => {
  const i = process.argv.indexOf('--selectProjects');
  const selected = i >= 0 ? process.argv.slice(i + 1).filter((a) => !a.startsWith('-')) : [];
  return selected.includes(name) || process.argv.some((a) => a.includes(`test/${name}`));
};
module.exports = {
  testTimeout: 60_000, // a global option: jest 29 ignores it inside a project
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...base, displayName: 'contract', testMatch: ['<rootDir>/test/contract/**/*.spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'] },
    // The agent console in Chromium against `npm start` (docs/console.md); in the default run, so CI exercises it.
    { ...base, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.spec.ts'] },
    ...(selects('faults') ? [{ ...base, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.spec.ts'] }] : []),
    ...(selects('multi') ? [{ ...base, displayName: 'multi', testMatch: ['<rootDir>/test/multi/**/*.spec.ts'] }] : []),
  ],
};
