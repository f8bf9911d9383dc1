import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { HealthStatus, errorResponses } from '../schemas/index.ts';

/** Liveness answers while the process serves; readiness also checks the store. */
export function healthRoutes(isReady: () => Promise<boolean>): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness', response: { 200: HealthStatus } } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: the store answers', response: { 200: HealthStatus, ...errorResponses(503) } } }, async () => {
      if (!(await isReady())) throw new AppError('SERVICE_UNAVAILABLE');
      return { status: 'ready' };
    });
  };
}
