// JWTs of every kind the verifier must accept or refuse, for the gRPC auth tests.
import jwt from 'jsonwebtoken';
import { SECRET } from './grpc-harness.ts';

export type TokenKind =
  'valid' | 'expired' | 'not-yet-valid' | 'wrong-secret' | 'tampered' | 'no-namespaces' | 'alg-none';

export const TOKEN_KINDS: readonly TokenKind[] = [
  'valid',
  'expired',
  'not-yet-valid',
  'wrong-secret',
  'tampered',
  'no-namespaces',
  'alg-none',
];

export interface TokenSpec {
  kind: TokenKind;
  namespaces: string[];
  subject: string;
  /** Seconds: how far in the past (expired) or future (nbf) the relevant instant is, ≥ 1 minute. */
  offsetSeconds: number;
}

/** A compact JWT of the given kind; only `valid` ones grant `namespaces`. */
export function makeToken(spec: TokenSpec): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: spec.subject, namespaces: spec.namespaces, iat: now, exp: now + 600 };
  const sign = (payload: object, secret = SECRET): string =>
    jwt.sign(payload, secret, { algorithm: 'HS256' });
  switch (spec.kind) {
    case 'valid':
      return sign(claims);
    case 'expired':
      return sign({ ...claims, iat: now - spec.offsetSeconds - 600, exp: now - spec.offsetSeconds });
    case 'not-yet-valid':
      return sign({ ...claims, nbf: now + spec.offsetSeconds, exp: now + spec.offsetSeconds + 600 });
    case 'wrong-secret':
      return sign(claims, `${SECRET}-but-another-one`);
    case 'tampered': {
      // A valid signature over other claims: the payload now grants one more namespace.
      const [header, , signature] = sign(claims).split('.');
      const payload = base64url({ ...claims, namespaces: [...spec.namespaces, 'admin'] });
      return `${header}.${payload}.${signature}`;
    }
    case 'no-namespaces':
      return sign({ sub: claims.sub, iat: claims.iat, exp: claims.exp });
    case 'alg-none':
      return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
  }
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
