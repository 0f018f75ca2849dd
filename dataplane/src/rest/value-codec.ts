import { isUtf8 } from 'node:buffer';
import { CacheError, ErrorCode } from '../errors.ts';

/** How a value travels in a JSON body. */
export type ValueEncoding = 'utf8' | 'base64';

/** A value as it appears in a response body. */
export interface EncodedValue {
  value: string;
  encoding: ValueEncoding;
}

/**
 * The bytes a request's value stands for. UTF-8 text must be well-formed (a lone surrogate would
 * silently become U+FFFD); base64 must be canonical RFC 4648 with padding.
 */
export function decodeValue(value: string, encoding: ValueEncoding): Buffer {
  if (encoding === 'base64') return decodeBase64(value);
  if (!value.isWellFormed()) {
    throw new CacheError(
      ErrorCode.InvalidValue,
      'the value is not well-formed Unicode (it holds a lone surrogate): send binary data with "encoding": "base64"',
    );
  }
  return Buffer.from(value, 'utf8');
}

/**
 * Buffer.from(…, 'base64') skips characters it does not know and tolerates missing padding, so a
 * string is accepted only when re-encoding its bytes gives the same string back.
 */
function decodeBase64(value: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) {
    throw new CacheError(
      ErrorCode.InvalidValue,
      'the value is not valid base64: use the standard alphabet (A-Z a-z 0-9 + /) with "=" padding, no whitespace',
    );
  }
  return bytes;
}

/**
 * Stored bytes as a response value: UTF-8 text when they are valid UTF-8 and the caller did not
 * ask for base64, otherwise base64. The returned `encoding` says which.
 */
export function encodeValue(bytes: Buffer, requested: ValueEncoding = 'utf8'): EncodedValue {
  if (requested === 'utf8' && isUtf8(bytes)) return { value: bytes.toString('utf8'), encoding: 'utf8' };
  return { value: bytes.toString('base64'), encoding: 'base64' };
}
