import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import type { StreamService } from '../../streams/stream-service.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { IdParams, StreamStatus, errorResponses } from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

/** GET /functions/{id}/streams: the stream instances and open sessions of a function (docs/streams.md). */
export function streamRoutes(auth: AuthService, streams: StreamService): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));
    app.get('/functions/:id/streams', {
      schema: { tags: ['streams'], summary: 'Stream instances (busy / idle per version) and open WebSocket sessions of a function', params: IdParams, response: { 200: StreamStatus, ...errorResponses(401, 404) } },
    }, async (request) => streams.status(principalOf(request), request.params.id));
  };
}
