// The two unit-bearing string formats of the CacheNamespace spec, parsed exactly as the CRD's
// validation (patterns and CEL's duration()/quantity()) reads them.

/** `90s`, `1h30m`, `1500ms`: digits and a unit, 1 to 4 times. The CRD's pattern for durations. */
export const DURATION_PATTERN = /^([0-9]{1,6}(ms|s|m|h)){1,4}$/;

/** `64Mi`, `1Gi`, `512Ki`: a whole number with a binary suffix. The CRD's pattern for memory sizes. */
export const MEMORY_PATTERN = /^[1-9][0-9]{0,7}(Ki|Mi|Gi)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SUFFIX_BYTES: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** Milliseconds of a duration matching DURATION_PATTERN; throws on anything else. */
export function durationMs(text: string): number {
  if (!DURATION_PATTERN.test(text)) {
    throw new Error(`"${text}" is not a duration such as 90s or 1h30m (units: ms, s, m, h)`);
  }
  let total = 0;
  for (const [, digits, unit] of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(digits) * (UNIT_MS[unit as string] as number);
  }
  return total;
}

/** Bytes of a memory size matching MEMORY_PATTERN; throws on anything else. */
export function memoryBytes(text: string): number {
  const match = MEMORY_PATTERN.exec(text);
  if (match === null) throw new Error(`"${text}" is not a memory size such as 64Mi (suffixes: Ki, Mi, Gi)`);
  return Number(text.slice(0, -2)) * (SUFFIX_BYTES[match[1] as string] as number);
}
