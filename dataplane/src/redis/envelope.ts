import type { StoredValue } from './remote-store.ts';

/*
 * The bytes of a value in Redis, format v1:
 *
 *   offset 0   2 bytes   magic 0xCA, version 0x01
 *   offset 2   16 bytes  writtenAt, ms since the epoch, lowercase hex ASCII, zero-padded
 *   offset 18  16 bytes  expiresAt, same encoding
 *   offset 34  ...       the payload
 *
 * The timestamps are fixed-width hex so that the Lua scripts in redis-store.ts can order two
 * writes by comparing `string.sub(v, 3, 18)` as strings. A later field (flags, encryption key
 * version) bumps the version byte; the Lua scripts must then learn the new version too.
 */

export const ENVELOPE_MAGIC = 0xca;
export const ENVELOPE_VERSION = 0x01;
const TIMESTAMP_HEX_CHARS = 16;
const WRITTEN_AT_OFFSET = 2;
const EXPIRES_AT_OFFSET = WRITTEN_AT_OFFSET + TIMESTAMP_HEX_CHARS;
export const ENVELOPE_HEADER_BYTES = EXPIRES_AT_OFFSET + TIMESTAMP_HEX_CHARS;

/** A timestamp (integer ms in [0, 2^53)) as the 16 lowercase hex characters stored in the envelope. */
export function timestampHex(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`envelope timestamps must be integers in [0, 2^53), got ${ms}`);
  }
  return ms.toString(16).padStart(TIMESTAMP_HEX_CHARS, '0');
}

export function encodeEnvelope(stored: StoredValue): Buffer {
  const raw = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + stored.value.length);
  raw[0] = ENVELOPE_MAGIC;
  raw[1] = ENVELOPE_VERSION;
  raw.write(timestampHex(stored.writtenAt), WRITTEN_AT_OFFSET, 'latin1');
  raw.write(timestampHex(stored.expiresAt), EXPIRES_AT_OFFSET, 'latin1');
  stored.value.copy(raw, ENVELOPE_HEADER_BYTES);
  return raw;
}

/**
 * Reads an envelope. Anything else (a value written by another client) is returned whole as the
 * payload, with both timestamps 0: older than any write of ours, and with no known expiry.
 */
export function decodeEnvelope(raw: Buffer): StoredValue {
  if (raw.length >= ENVELOPE_HEADER_BYTES && raw[0] === ENVELOPE_MAGIC && raw[1] === ENVELOPE_VERSION) {
    const writtenAt = readTimestamp(raw, WRITTEN_AT_OFFSET);
    const expiresAt = readTimestamp(raw, EXPIRES_AT_OFFSET);
    if (writtenAt !== undefined && expiresAt !== undefined) {
      return { value: raw.subarray(ENVELOPE_HEADER_BYTES), writtenAt, expiresAt };
    }
  }
  return { value: raw, writtenAt: 0, expiresAt: 0 };
}

/** The 16 lowercase hex digits at `offset`, read in place (it runs for every value read from Redis). */
function readTimestamp(raw: Buffer, offset: number): number | undefined {
  let ms = 0;
  for (let index = offset; index < offset + TIMESTAMP_HEX_CHARS; index += 1) {
    const char = raw[index] as number;
    const digit =
      char >= 0x30 && char <= 0x39 ? char - 0x30 : char >= 0x61 && char <= 0x66 ? char - 0x57 : -1;
    if (digit < 0) return undefined;
    ms = ms * 16 + digit;
  }
  // Past 2^53 the sum is rounded, but stays past it: refused as before.
  return Number.isSafeInteger(ms) ? ms : undefined;
}
