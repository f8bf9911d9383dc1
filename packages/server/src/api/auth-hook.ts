import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import type { Principal } from '../core/types.ts';
import type { AuthService } from '../auth/service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

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
    if (credential === undefined) throw new AppError('UNAUTHENTICATED');
    if (credential.length > 4096) throw new AppError('INVALID_TOKEN');
    request.principal = await auth.authenticate(credential);
  };
}

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new AppError('UNAUTHENTICATED');
  return request.principal;
}
