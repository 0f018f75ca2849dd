// Pure helpers for the snapshots the Kubernetes source hands out.
import type { NamespaceConfigSnapshot } from './namespace-source.ts';

export type StringRecord = Readonly<Record<string, string>>;

export const EMPTY_RECORD: StringRecord = Object.freeze({});

export const EMPTY_SNAPSHOT: NamespaceConfigSnapshot = Object.freeze({
  entries: EMPTY_RECORD,
  credentials: EMPTY_RECORD,
});

/** A Secret's `data` (base64, as the API returns it) as UTF-8 text. */
export function decodeSecretData(data: StringRecord | undefined): StringRecord {
  if (data === undefined) return EMPTY_RECORD;
  return Object.freeze(
    Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
    ),
  );
}

/** A ConfigMap's `data`, frozen (it is handed to the registry as is). */
export function configMapData(data: StringRecord | undefined): StringRecord {
  return data === undefined ? EMPTY_RECORD : Object.freeze({ ...data });
}

export function recordsEqual(a: StringRecord, b: StringRecord): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

export function snapshotsEqual(a: NamespaceConfigSnapshot, b: NamespaceConfigSnapshot): boolean {
  return recordsEqual(a.entries, b.entries) && recordsEqual(a.credentials, b.credentials);
}
