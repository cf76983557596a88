/** DESIGN §1: apps → libs; read-models → domain; event-store knows nothing of the domain; domain imports nothing. */
module.exports = {
  forbidden: [
    { name: 'domain-is-pure', severity: 'error', comment: 'libs/domain imports nothing but itself (no Nest, no I/O)',
      from: { path: '^libs/domain/src' }, to: { pathNot: '^libs/domain/src' } },
    { name: 'event-store-knows-no-domain', severity: 'error',
      from: { path: '^libs/event-store/src' }, to: { path: '^(libs/domain|libs/read-models|apps)/' } },
    { name: 'read-models-only-domain', severity: 'error',
      from: { path: '^libs/read-models/src' }, to: { path: '^(apps|libs/event-store/src/(sqlite|eventstoredb))/' } },
    { name: 'runtime-lib-no-apps', severity: 'error', comment: 'the runtime is shared by both apps',
      from: { path: '^libs/runtime/src' }, to: { path: '^apps/' } },
    { name: 'no-app-imports-another-app', severity: 'error',
      from: { path: '^apps/api/' }, to: { path: '^apps/projector/' } },
    { name: 'client-is-standalone', severity: 'error', comment: 'the typed client ships to frontends: openapi-fetch and its generated types only',
      from: { path: '^libs/client/src' }, to: { path: '^(apps|libs/(?!client/))' } },
    { name: 'libs-never-import-apps', severity: 'error', from: { path: '^libs/' }, to: { path: '^apps/' } },
    { name: 'no-test-code-in-production', severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: '\\.spec\\.ts$' }, to: { path: '^(test/|libs/[^/]+/test-support/)' } },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
