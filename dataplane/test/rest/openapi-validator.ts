// Response bodies checked against dataplane/openapi.json itself: the document's JSON Schemas are
// turned into zod schemas (z.fromJSONSchema, with components/schemas as $defs), so a test fails
// when the server and the document disagree.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OPENAPI_DOCUMENT_URL } from '../../src/rest/openapi-document.ts';

type JsonObject = Record<string, unknown>;

export const openApiDocument = JSON.parse(readFileSync(OPENAPI_DOCUMENT_URL, 'utf8')) as JsonObject;

const components = openApiDocument['components'] as JsonObject;

/** The document with `#/components/schemas/X` pointers rewritten to `#/$defs/X`. */
const DEFS = JSON.parse(
  JSON.stringify(components['schemas']).replaceAll('"#/components/schemas/', '"#/$defs/'),
) as JsonObject;

/** Follows a `#/components/...` reference (responses, parameters, headers). */
function resolve(node: unknown): JsonObject {
  let current = node as JsonObject;
  while (typeof current['$ref'] === 'string') {
    const path = current['$ref'].replace(/^#\//, '').split('/');
    current = path.reduce<JsonObject>((parent, segment) => parent[segment] as JsonObject, openApiDocument);
  }
  return current;
}

/** The zod schema of a JSON Schema from the document. */
export function schemaFrom(jsonSchema: unknown): z.ZodType {
  const rewritten = JSON.parse(
    JSON.stringify(jsonSchema).replaceAll('"#/components/schemas/', '"#/$defs/'),
  ) as JsonObject;
  const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...rewritten, $defs: DEFS };
  return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
}

/** The documented response of `method path` with `status` (e.g. '/health', 'get', 200). */
export function documentedResponse(path: string, method: string, status: number): JsonObject {
  const operation = (openApiDocument['paths'] as Record<string, Record<string, JsonObject>>)[path]?.[method];
  if (operation === undefined) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
  const responses = operation['responses'] as JsonObject;
  const response = responses[String(status)];
  if (response === undefined)
    throw new Error(`${method.toUpperCase()} ${path} → ${status} is not documented`);
  return resolve(response);
}

/** The zod schema of the JSON body of a documented response. */
export function responseBodySchema(path: string, method: string, status: number): z.ZodType {
  const content = documentedResponse(path, method, status)['content'] as Record<string, { schema: unknown }>;
  const json = content['application/json'];
  if (json === undefined) throw new Error(`${method.toUpperCase()} ${path} → ${status} has no JSON body`);
  return schemaFrom(json.schema);
}

/** The zod schema of a request body (for checking that the document accepts what the server does). */
export function requestBodySchema(path: string, method: string): z.ZodType {
  const operation = (openApiDocument['paths'] as Record<string, Record<string, JsonObject>>)[path]?.[method];
  const body = resolve(operation?.['requestBody']);
  return schemaFrom((body['content'] as Record<string, { schema: unknown }>)['application/json']?.schema);
}

/** The path template a concrete request path belongs to. */
export function templateOf(method: string, path: string): string {
  const withoutQuery = path.split('?')[0] ?? path;
  if (method === 'POST' && /^\/api\/v1\/cache\/[^/]+\/batch\/get$/.test(withoutQuery)) {
    return '/api/v1/cache/{namespace}/batch/get';
  }
  if (method === 'POST' && /^\/api\/v1\/cache\/[^/]+\/batch\/set$/.test(withoutQuery)) {
    return '/api/v1/cache/{namespace}/batch/set';
  }
  if (withoutQuery.startsWith('/api/v1/cache/')) return '/api/v1/cache/{namespace}/{key}';
  return withoutQuery;
}
