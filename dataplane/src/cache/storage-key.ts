/**
 * Redis key layout: `<namespace>:<key>`. The key's `{`, `}` and `%` are percent-encoded so that a
 * caller cannot pick a Redis Cluster hash slot with a hash tag (`{tag}`) — the whole storage key is
 * always hashed. The encoding is injective, and keys without those characters are stored verbatim.
 */
export function storageKey(namespace: string, key: string): string {
  return `${namespace}:${escapeKey(key)}`;
}

const NEEDS_ESCAPE = /[%{}]/;
const ESCAPES: Record<string, string> = { '%': '%25', '{': '%7B', '}': '%7D' };

export function escapeKey(key: string): string {
  return NEEDS_ESCAPE.test(key) ? key.replace(/[%{}]/g, (char) => ESCAPES[char] ?? char) : key;
}

export function unescapeKey(escaped: string): string {
  return escaped.replace(/%(25|7B|7D)/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
