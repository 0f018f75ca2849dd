// Tokens of every kind the verifier must refuse (and the one it must accept), built with jsonwebtoken
// directly so that the tests do not depend on the data plane's own signing helper.
import jwt from 'jsonwebtoken';
import { AUDIENCE, ISSUER, SECRET } from './rest-harness.ts';

export const TOKEN_KINDS = [
  'valid',
  'expired',
  'not-yet-valid',
  'wrong-secret',
  'wrong-alg',
  'alg-none',
  'tampered-payload',
  'missing-namespaces',
  'missing-exp',
  'wrong-issuer',
  'wrong-audience',
  'garbage',
] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface TokenSpec {
  kind: TokenKind;
  namespaces: string[];
  /** Seconds of validity left (valid) or since expiry (expired) or until nbf (not-yet-valid); ≥ 2. */
  offsetSeconds: number;
  subject: string;
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token of the given kind; only `valid` should be accepted. */
export function makeToken({ kind, namespaces, offsetSeconds, subject }: TokenSpec): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: subject, namespaces, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + offsetSeconds };
  const sign = (payload: object, secret = SECRET, algorithm: jwt.Algorithm = 'HS256'): string =>
    jwt.sign(payload, secret, { algorithm });
  switch (kind) {
    case 'valid':
      return sign(claims);
    case 'expired':
      return sign({ ...claims, iat: now - offsetSeconds - 60, exp: now - offsetSeconds });
    case 'not-yet-valid':
      return sign({ ...claims, nbf: now + offsetSeconds, exp: now + offsetSeconds + 600 });
    case 'wrong-secret':
      return sign(claims, `${SECRET}-but-another-one`);
    case 'wrong-alg':
      return sign(claims, SECRET, 'HS512');
    case 'alg-none':
      return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
    case 'tampered-payload': {
      const [header, , signature] = sign(claims).split('.');
      return `${header}.${base64url({ ...claims, namespaces: [...namespaces, 'admin'] })}.${signature}`;
    }
    case 'missing-namespaces':
      return sign(without(claims, 'namespaces'));
    case 'missing-exp':
      return sign(without(claims, 'exp'));
    case 'wrong-issuer':
      return sign({ ...claims, iss: 'someone-else' });
    case 'wrong-audience':
      return sign({ ...claims, aud: 'another-service' });
    case 'garbage':
      return `not.a.${subject.replace(/[^A-Za-z0-9_-]/g, '') || 'jwt'}`;
  }
}

function without(claims: object, name: string): object {
  return Object.fromEntries(Object.entries(claims).filter(([claim]) => claim !== name));
}
