/** What a frontend needs of every operation of the OpenAPI document, as a list of "METHOD /path: lacks …" lines. */
type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const COMMAND_METHODS = new Set(['post', 'put', 'patch', 'delete']);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A schema that says something: a $ref, a type, an enum or a combination; `{}` says nothing. */
export function isEmptySchema(schema: unknown): boolean {
  if (!isObject(schema)) return true;
  return !['$ref', 'type', 'enum', 'anyOf', 'oneOf', 'allOf', 'properties', 'items'].some((k) => k in schema);
}

export function operationsOf(document: Json): Array<{ method: string; path: string; op: Json }> {
  const out: Array<{ method: string; path: string; op: Json }> = [];
  for (const [path, item] of Object.entries((document['paths'] ?? {}) as Json)) {
    for (const method of METHODS) {
      const op = (item as Json)[method];
      if (isObject(op)) out.push({ method, path, op });
    }
  }
  return out;
}

export function incompleteOperations(document: Json): string[] {
  const lacks: string[] = [];
  for (const { method, path, op } of operationsOf(document)) {
    const name = `${method.toUpperCase()} ${path}`;
    const responses = (op['responses'] ?? {}) as Json;
    const success = Object.entries(responses).filter(([status]) => /^2\d\d$/.test(status));
    const hasSchema = success.some(([, r]) =>
      Object.values(((r as Json)['content'] ?? {}) as Json).some((media) => !isEmptySchema((media as Json)['schema'])));
    if (!hasSchema) lacks.push(`${name}: lacks a 2xx response with a schema`);
    const problems = Object.entries(responses).filter(([, r]) => isObject((r as Json)['content']) && 'application/problem+json' in ((r as Json)['content'] as Json));
    if (problems.length === 0) lacks.push(`${name}: lacks an application/problem+json response`);
    if (!Array.isArray(op['security'])) lacks.push(`${name}: lacks a security requirement (or security: [] when public)`);
    else if (op['security'].length > 0 && !Array.isArray(op['x-roles'])) lacks.push(`${name}: lacks x-roles`);
    if (!Array.isArray(op['tags']) || op['tags'].length === 0) lacks.push(`${name}: lacks a tag`);
    const parameters = (op['parameters'] ?? []) as Json[];
    for (const p of parameters) {
      if (p['in'] === 'query' && isEmptySchema(p['schema'])) lacks.push(`${name}: query parameter ${String(p['name'])} has an empty schema`);
    }
    const created = Object.keys(responses).includes('201');
    if (COMMAND_METHODS.has(method) && created && !parameters.some((p) => p['in'] === 'header' && p['name'] === 'Idempotency-Key')) {
      lacks.push(`${name}: lacks the Idempotency-Key header`);
    }
  }
  return lacks;
}
