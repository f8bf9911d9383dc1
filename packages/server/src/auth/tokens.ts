import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { hash } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import { randomToken } from '../core/ids.ts';

const ISSUER = 'skyscale';
const AUDIENCE = 'skyscale-api';
/** How far another machine's clock may run ahead of ours: `iat` and `nbf` up to this far in the future pass. */
const CLOCK_SKEW_SECONDS = 60;

export interface SessionClaims {
  userId: string;
  role: 'admin' | 'user';
}

/**
 * HS256 session tokens. Verification allows only HS256, so `alg: none` and algorithm swaps are refused,
 * and requires `exp` and `iat`: a token is refused once expired, or once older than the TTL whatever its
 * `exp` says, and when it was issued (or becomes valid) more than CLOCK_SKEW_SECONDS in the future.
 */
export class TokenSigner {
  readonly #key: Uint8Array;
  readonly #ttlSeconds: number;

  constructor(secret: string, ttlSeconds: number) {
    this.#key = new TextEncoder().encode(secret);
    this.#ttlSeconds = ttlSeconds;
  }

  async sign(claims: SessionClaims): Promise<{ token: string; expiresAt: string }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.#ttlSeconds;
    const token = await new SignJWT({ role: claims.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomToken(12))
      .sign(this.#key);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  async verify(token: string): Promise<SessionClaims> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp'],
        maxTokenAge: this.#ttlSeconds,
        clockTolerance: CLOCK_SKEW_SECONDS,
      });
      // jose applies the tolerance to `exp` too; our own clock decides expiry exactly.
      if (payload.exp! <= Date.now() / 1000) throw new AppError('INVALID_TOKEN', 'The token has expired');
      if (typeof payload.sub !== 'string' || (payload.role !== 'admin' && payload.role !== 'user')) throw new AppError('INVALID_TOKEN');
      return { userId: payload.sub, role: payload.role };
    } catch (err) {
      if (err instanceof AppError) throw err;
      const expired = err instanceof joseErrors.JWTExpired;
      throw new AppError('INVALID_TOKEN', expired ? 'The token has expired' : 'The token is not valid');
    }
  }
}

export const API_KEY_PREFIX = 'sk_';

/** API keys are random secrets; only their SHA-256 is stored (they carry 256 bits, so no slow hash is needed). */
export function newApiKey(): { key: string; prefix: string; hash: string } {
  const key = API_KEY_PREFIX + randomToken(32);
  return { key, prefix: key.slice(0, 10), hash: hashApiKey(key) };
}

export const hashApiKey = (key: string): string => hash('sha256', key, 'hex');

export const looksLikeApiKey = (credential: string): boolean => credential.startsWith(API_KEY_PREFIX);
