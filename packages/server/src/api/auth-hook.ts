import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { Principal } from '../core/types.ts';
import type { AuthService } from '../auth/service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** What every request without credentials is told: the ways to authenticate. */
export const HOW_TO_AUTHENTICATE =
  'Authentication is required: send `Authorization: Bearer <token>` with a session token from POST /auth/login, or an API key as `X-API-Key: <key>` (or as the Bearer token). With the CLI: `skyscale login`, or set SKYSCALE_API_KEY.';

/** Reads `Authorization: Bearer <JWT or API key>` or `X-API-Key`. */
export function credentialOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) throw new AppError('INVALID_TOKEN', 'Authorization must be "Bearer <token or API key>"');
    return match[1];
  }
  const key = request.headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key.trim() : undefined;
}

export function authenticateHook(auth: AuthService) {
  return async (request: FastifyRequest): Promise<void> => {
    const credential = credentialOf(request);
    if (credential === undefined) throw new AppError('UNAUTHENTICATED', HOW_TO_AUTHENTICATE);
    if (credential.length > 4096) throw new AppError('INVALID_TOKEN');
    request.principal = await auth.authenticate(credential, request.ip);
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new AppError('UNAUTHENTICATED', HOW_TO_AUTHENTICATE);
  return request.principal;
}
