import type { CacheSource } from '../cache/types.ts';
import type { EncodedValue } from './value-codec.ts';

/** The JSON bodies of successful cache responses (documented in openapi.json). */

export interface GetResponse extends EncodedValue {
  found: true;
  source: CacheSource;
  degraded: boolean;
  /** ISO-8601; absent when the expiry is not known. */
  expiresAt?: string;
}

export interface SetResponse {
  success: true;
  degraded: boolean;
}

export interface DeleteResponse {
  deleted: boolean;
  degraded: boolean;
}

export interface BatchGetResponse {
  values: Record<string, EncodedValue>;
  missingKeys: string[];
  unavailableKeys: string[];
  degraded: boolean;
}

export interface BatchSetResponse {
  success: true;
  storedCount: number;
  degraded: boolean;
}
