import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';

/** Liveness answers while the process serves; readiness also checks the store. */
export function healthRoutes(isReady: () => Promise<boolean>): FastifyPluginAsync {
  return async (app) => {
    const Status = Type.Object({ status: Type.String() });
    app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness', response: { 200: Status } } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: the store answers', response: { 200: Status, 503: Type.Ref('ErrorResponse') } } }, async () => {
      if (!(await isReady())) throw new AppError('SERVICE_UNAVAILABLE');
      return { status: 'ready' };
    });
  };
}
