import { z } from 'zod';
import { CacheError, ErrorCode } from '../errors.ts';

/**
 * The request bodies and query strings of the cache routes (documented in openapi.json).
 * Objects are strict: an unknown field is a 400, so a typo never silently drops an option.
 */

/** Issue messages follow the field name: "ttlSeconds: must be …" or "value: is required". */
function expected(what: string) {
  return (issue: { input: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be ${what}`;
}

const valueEncoding = z.enum(['utf8', 'base64'], { error: expected('"utf8" or "base64"') });

const ttlSeconds = z
  .int({ error: expected('a positive whole number of seconds') })
  .positive({ error: 'must be a positive whole number of seconds' });

const value = z.string({ error: expected('a string (UTF-8 text, or base64 with "encoding": "base64")') });

export const SetBody = z.strictObject({
  value,
  encoding: valueEncoding.optional(),
  ttlSeconds: ttlSeconds.optional(),
  encrypt: z.boolean().optional(),
});
export type SetBody = z.infer<typeof SetBody>;

export const BatchGetBody = z.strictObject({
  keys: z.array(z.string(), { error: expected('an array of strings') }),
  encoding: valueEncoding.optional(),
});
export type BatchGetBody = z.infer<typeof BatchGetBody>;

export const BatchSetBody = z.strictObject({
  entries: z.record(z.string(), z.strictObject({ value, encoding: valueEncoding.optional() }), {
    error: expected('an object mapping each key to {"value", "encoding"?}'),
  }),
  ttlSeconds: ttlSeconds.optional(),
  encrypt: z.boolean().optional(),
});
export type BatchSetBody = z.infer<typeof BatchSetBody>;

/** Other query parameters are ignored; `encoding` given twice is an error. */
export const GetQuery = z.object({ encoding: valueEncoding.optional() });
export type GetQuery = z.infer<typeof GetQuery>;

/** The field an issue is about decides the error code, so that e.g. a bad TTL is TTL_INVALID. */
function codeFor(path: readonly PropertyKey[]): ErrorCode {
  if (path[0] === 'ttlSeconds') return ErrorCode.InvalidTTL;
  const isValue = path.length === 1 ? path[0] === 'value' : path[0] === 'entries' && path[2] === 'value';
  return isValue ? ErrorCode.InvalidValue : ErrorCode.InvalidRequest;
}

/** `input` checked against `schema`; otherwise a 400 CacheError naming every problem. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const [first] = result.error.issues;
  const problems = result.error.issues.map((issue) =>
    issue.path.length === 0 ? issue.message : `${z.core.toDotPath(issue.path)}: ${issue.message}`,
  );
  throw new CacheError(codeFor(first?.path ?? []), `invalid ${what}: ${problems.join('; ')}`);
}
