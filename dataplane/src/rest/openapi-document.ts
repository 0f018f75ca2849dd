import { readFileSync } from 'node:fs';

/** dataplane/openapi.json: the public description of the REST API. */
export const OPENAPI_DOCUMENT_URL = new URL('../../openapi.json', import.meta.url);

/** The document's text, read and checked once when the app is built (a broken file fails start-up). */
export function loadOpenApiDocument(url: URL = OPENAPI_DOCUMENT_URL): string {
  const text = readFileSync(url, 'utf8');
  JSON.parse(text);
  return text;
}
