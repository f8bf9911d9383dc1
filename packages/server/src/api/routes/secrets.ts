import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import type { SecretService } from '../../secrets/service.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { IdParams, NoContent, SecretCreate, SecretMeta, SecretUpdate, errorResponses, listOf } from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

/** Secrets: values go in, only metadata comes out. */
export function secretRoutes(auth: AuthService, secrets: SecretService): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));
    const tags = ['secrets'];

    app.post('/secrets', {
      schema: { tags, summary: 'Store a secret', body: SecretCreate, response: { 201: SecretMeta, ...errorResponses(400, 401, 409) } },
    }, async (request, reply) => reply.code(201).send(await secrets.create(principalOf(request), request.body.name, request.body.value)));

    app.get('/secrets', { schema: { tags, summary: 'Your secrets (names and dates only)', response: { 200: listOf(SecretMeta), ...errorResponses(401) } } },
      async (request) => ({ items: await secrets.list(principalOf(request)) }));

    app.get('/secrets/:id', { schema: { tags, summary: "A secret's metadata", params: IdParams, response: { 200: SecretMeta, ...errorResponses(401, 404) } } },
      async (request) => secrets.get(principalOf(request), request.params.id));

    app.put('/secrets/:id', {
      schema: { tags, summary: "Replace a secret's value", params: IdParams, body: SecretUpdate, response: { 200: SecretMeta, ...errorResponses(400, 401, 404) } },
    }, async (request) => secrets.update(principalOf(request), request.params.id, request.body.value));

    app.delete('/secrets/:id', { schema: { tags, summary: 'Delete a secret', params: IdParams, response: { 204: NoContent, ...errorResponses(401, 404) } } },
      async (request, reply) => {
        await secrets.delete(principalOf(request), request.params.id);
        return reply.code(204).send(null);
      });
  };
}
