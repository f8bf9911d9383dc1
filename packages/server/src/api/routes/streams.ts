import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { AuthService } from '../../auth/service.ts';
import type { StreamService } from '../../streams/stream-service.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { IdParams, errorResponses } from '../schemas.ts';
import type { TypedInstance } from '../typed.ts';

const StreamStatus = Type.Object({
  pools: Type.Array(Type.Object({
    version: Type.Integer(),
    policy: Type.Object({ minFree: Type.Integer(), idleTimeoutMs: Type.Integer() }),
    starting: Type.Integer({ description: 'Instances being started (cold starts and minFree top-ups)' }),
    instances: Type.Array(Type.Object({
      id: Type.String(),
      state: Type.Union([Type.Literal('busy'), Type.Literal('idle')]),
      since: Type.String({ format: 'date-time', description: 'busy: when its session began; idle: when it was last used' }),
      sessions: Type.Integer({ description: 'Sessions the instance has served, the current one included' }),
    })),
  }), { description: 'One pool per function version that has stream instances' }),
  sessions: Type.Array(Type.Object({
    executionId: Type.String(),
    functionId: Type.String(),
    instanceId: Type.String(),
    startedAt: Type.String({ format: 'date-time' }),
    messagesIn: Type.Integer({ description: 'Client → function messages so far' }),
    messagesOut: Type.Integer({ description: 'Function → client messages so far' }),
    bufferedBytes: Type.Integer({ description: 'Bytes the platform holds for the session (bounded by the flow-control windows)' }),
    clientBufferedBytes: Type.Integer({ description: 'Bytes accepted for the client and not yet written to its socket' }),
  })),
});

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
