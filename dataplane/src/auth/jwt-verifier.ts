import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { CacheError, ErrorCode } from '../errors.ts';
import type { Principal } from './principal.ts';

export interface JwtVerifierOptions {
  /** The HS256 shared secret. */
  secret: string;
  issuer?: string | undefined;
  audience?: string | undefined;
  /**
   * `token-grants` (default, NAMESPACES_SOURCE=static): the `namespaces` claim is required, and is
   * what authorizes. `access-lists` (kubernetes): namespaces' access lists authorize by `sub` and
   * the `groups` claim (an array of strings, read here); `namespaces` is optional and only narrows.
   */
  authorization?: 'token-grants' | 'access-lists';
  /** How many verified tokens to remember (0 disables the cache). */
  cacheSize?: number;
  now?: () => number;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/;

/** Verified tokens are re-checked against the full verifier at least this often. */
const CACHE_TTL_MS = 60_000;

/**
 * Verifies `Authorization: Bearer <JWT>` values for both transports: HS256 only (the algorithm is
 * pinned, so `alg: none` and asymmetric algorithms are refused), `exp` and `nbf` checked, `iss` and
 * `aud` when configured. Verified tokens are remembered until they expire (at most a minute) so that
 * verification stays off the hot path.
 */
export class JwtVerifier {
  readonly #key: KeyObject;
  readonly #options: jwt.VerifyOptions & { complete?: false };
  readonly #cache: LRUCache<string, Principal> | undefined;
  readonly #now: () => number;
  readonly #accessLists: boolean;

  constructor(options: JwtVerifierOptions) {
    this.#key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    this.#options = {
      algorithms: ['HS256'],
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.audience === undefined ? {} : { audience: options.audience }),
    };
    const cacheSize = options.cacheSize ?? 10_000;
    this.#cache = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined;
    this.#now = options.now ?? Date.now;
    this.#accessLists = options.authorization === 'access-lists';
  }

  /** The principal behind an Authorization header value; throws UNAUTHORIZED otherwise. */
  verify(authorization: string | undefined): Principal {
    if (authorization === undefined || authorization === '') {
      throw unauthorized('missing Authorization header: send "Authorization: Bearer <JWT>"');
    }
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) throw unauthorized('the Authorization header is not "Bearer <JWT>"');

    const now = this.#now();
    const cached = this.#cache?.get(token);
    if (cached !== undefined && cached.expiresAt > now) return cached;

    const principal = this.#verifyToken(token, now);
    this.#cache?.set(token, principal, { ttl: Math.min(CACHE_TTL_MS, principal.expiresAt - now) });
    return principal;
  }

  #verifyToken(token: string, now: number): Principal {
    let claims: jwt.JwtPayload;
    try {
      const payload = jwt.verify(token, this.#key, {
        ...this.#options,
        clockTimestamp: Math.floor(now / 1000),
      });
      if (typeof payload === 'string') throw new Error('the token payload is not a JSON object');
      claims = payload;
    } catch (error) {
      throw unauthorized(`invalid token: ${(error as Error).message}`);
    }
    const namespaces: unknown = claims['namespaces'];
    const namespacesOptional = this.#accessLists && namespaces === undefined;
    if (!namespacesOptional && !isStringArray(namespaces)) {
      throw unauthorized('invalid token: the "namespaces" claim must be an array of namespace names');
    }
    const groups: unknown = this.#accessLists ? (claims['groups'] ?? []) : [];
    if (!isStringArray(groups)) {
      throw unauthorized('invalid token: the "groups" claim must be an array of group names');
    }
    if (typeof claims.exp !== 'number') throw unauthorized('invalid token: an "exp" claim is required');
    return {
      subject: typeof claims.sub === 'string' ? claims.sub : undefined,
      namespaces: isStringArray(namespaces) ? new Set(namespaces) : undefined,
      groups,
      expiresAt: claims.exp * 1000,
    };
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function unauthorized(message: string): CacheError {
  return new CacheError(ErrorCode.Unauthorized, message);
}

export interface TokenClaims {
  subject: string;
  /** Left out of the token when undefined (allowed only where access lists authorize). */
  namespaces?: string[] | undefined;
  groups?: string[] | undefined;
  ttlSeconds: number;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Signs an HS256 token the verifier accepts (for the embedded default and for tests). */
export function signToken(secret: string, claims: TokenClaims): string {
  const payload = {
    ...(claims.namespaces === undefined ? {} : { namespaces: claims.namespaces }),
    ...(claims.groups === undefined ? {} : { groups: claims.groups }),
  };
  return jwt.sign(payload, createSecretKey(Buffer.from(secret, 'utf8')), {
    algorithm: 'HS256',
    subject: claims.subject,
    expiresIn: claims.ttlSeconds,
    ...(claims.issuer === undefined ? {} : { issuer: claims.issuer }),
    ...(claims.audience === undefined ? {} : { audience: claims.audience }),
  });
}
