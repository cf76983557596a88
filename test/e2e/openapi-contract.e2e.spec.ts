import SwaggerParser from '@apidevtools/swagger-parser';
import { DOMAIN_ERROR_CODES } from '@crm/domain';
import { incompleteOperations, operationsOf } from '../support/openapi-completeness';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The contract a frontend generates its client from (issue 17): valid OpenAPI, and for every operation a success
 * schema, its problems, its security and a tag. Generic over the routes, so a new route is checked as it lands.
 */
describe('OpenAPI document at /docs-json', () => {
  let t: TestApp;
  let document: Record<string, unknown>;

  beforeAll(async () => {
    t = await startTestApp();
    const response = await t.request('GET', '/docs-json', { token: null });
    expect(response.status).toBe(200);
    document = response.body as Record<string, unknown>;
  });
  afterAll(async () => t.close());

  it('validates against the OpenAPI schema with no errors', async () => {
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it('leaves no operation without a 2xx schema, a problem response, security, roles, a tag, or with an empty query schema', () => {
    expect(operationsOf(document).length).toBeGreaterThan(40);
    // The list names each operation and what it lacks.
    expect(incompleteOperations(document)).toEqual([]);
  });

  it('describes opaque bearer tokens, public routes as public, and every problem type', () => {
    const components = document['components'] as { securitySchemes: Record<string, Record<string, unknown>>; schemas: Record<string, { enum?: string[]; properties?: { type: { allOf?: unknown[] } } }> };
    expect(components.securitySchemes['bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(components.securitySchemes['bearer']).not.toHaveProperty('bearerFormat');
    const paths = document['paths'] as Record<string, Record<string, { security?: unknown[]; 'x-roles'?: string[]; parameters?: Array<{ name: string; in: string }>; responses: Record<string, { headers?: Record<string, unknown> }> }>>;
    for (const [path, method] of [['/health/live', 'get'], ['/health/ready', 'get'], ['/metrics', 'get']] as const) {
      expect({ path, security: paths[path]?.[method]?.security }).toEqual({ path, security: [] });
    }
    expect(paths['/customers']?.['post']?.['x-roles']).toEqual(['agent', 'admin']);
    expect(components.schemas['Problem']?.properties?.type.allOf).toEqual([{ $ref: '#/components/schemas/ProblemType' }]);
    expect(components.schemas['ProblemType']?.enum).toEqual(expect.arrayContaining([...DOMAIN_ERROR_CODES, 'validation-error', 'read-model-behind']));
    const logContact = paths['/customers/{id}/contacts']?.['post'];
    expect(logContact?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(['header:Idempotency-Key', 'header:If-Match']));
    expect(Object.keys(logContact?.responses['201']?.headers ?? {})).toEqual(expect.arrayContaining(['ETag', 'Location']));
    expect(Object.keys(logContact?.responses['422'] ?? {})).toContain('content');
    const profile = paths['/customers/{id}']?.['get'];
    expect(profile?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(expect.arrayContaining(['query:minPosition', 'header:X-Min-Position']));
    expect(Object.keys(profile?.responses['200']?.headers ?? {})).toContain('X-Read-Model-Position');
    expect(Object.keys(profile?.responses['503']?.headers ?? {})).toContain('Retry-After');
  });
});
