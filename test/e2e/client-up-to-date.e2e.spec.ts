import { readFileSync } from 'node:fs';
import { CLIENT_FILES, renderClientTypes, renderOpenApiJson } from '../../apps/api/scripts/openapi-client';

/**
 * libs/client is committed (frontends use it without running the API), so it must be what the current app
 * generates: a route, DTO or decorator changed without `npm run client:generate` fails here.
 */
describe('committed client (libs/client)', () => {
  const hint = 'libs/client is stale: run `npm run client:generate` and commit libs/client/openapi.json and libs/client/src/schema.d.ts';

  it('openapi.json is the document the app serves, and schema.d.ts the types generated from it', async () => {
    const json = await renderOpenApiJson();
    const committedJson = readFileSync(CLIENT_FILES.openapi, 'utf8');
    const committedTypes = readFileSync(CLIENT_FILES.schema, 'utf8');
    // Not toEqual on 400 kB of text: a one-line message that says what to do, then the first difference.
    if (committedJson !== json) throw new Error(`${hint} (openapi.json differs from /docs-json at ${firstDifference(committedJson, json)})`);
    const types = renderClientTypes(json);
    if (committedTypes !== types) throw new Error(`${hint} (schema.d.ts differs from the types generated from openapi.json at ${firstDifference(committedTypes, types)})`);
  });
});

function firstDifference(a: string, b: string): string {
  const left = a.split('\n');
  const right = b.split('\n');
  const line = left.findIndex((l, i) => l !== right[i]);
  const at = line === -1 ? left.length : line;
  return `line ${at + 1}: committed ${JSON.stringify(left[at] ?? '<end>')}, generated ${JSON.stringify(right[at] ?? '<end>')}`;
}
