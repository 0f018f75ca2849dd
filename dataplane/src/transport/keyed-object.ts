/**
 * An object with one own property per entry, for map-shaped answers (the REST batch GET's `values`,
 * the gRPC `map<string, bytes>` field). It has no prototype, so a key named "__proto__" stays a key
 * (as with Object.fromEntries), and V8 keeps it a dictionary. Object.fromEntries over key sets that
 * differ on every call builds a new hidden class per key instead: profiled at 16 % of the CPU of a
 * gRPC batch GET of 100 keys, ~70 µs per 100-key object against ~12 µs for this one.
 */
export function keyedObject<V, T = V>(
  entries: Iterable<readonly [string, V]>,
  convert: (value: V) => T = (value) => value as unknown as T,
): Record<string, T> {
  const object = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) object[key] = convert(value);
  return object;
}
