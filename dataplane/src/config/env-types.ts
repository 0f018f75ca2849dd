import parseDuration from 'parse-duration';
import { z } from 'zod';

/** Go-style duration strings such as `300ms`, `5s`, `1h30m`: a number and a unit, repeated. */
const DURATION_PATTERN = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** A duration string, parsed to milliseconds. */
export const duration = z
  .string()
  .trim()
  .regex(DURATION_PATTERN, 'expected a duration such as 300ms, 5s or 1h30m')
  .transform((text) => parseDuration(text) ?? Number.NaN)
  .pipe(z.number().finite());

export const positiveDuration = duration.refine((ms) => ms > 0, 'must be longer than 0');

/** `true`/`false` (also 1/0, yes/no), case-insensitive. */
export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], 'expected true or false'))
  .transform((text) => text === 'true' || text === '1' || text === 'yes');

export function integer(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

export const port = integer(0, 65535);

/** A comma-separated list of non-empty items. */
export const list = z.string().transform((text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);
