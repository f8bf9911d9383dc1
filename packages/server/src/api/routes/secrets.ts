import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import type { AuthService } from '../../auth/service.ts';
import type { SecretService } from '../../secrets/service.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { IdParams, errorResponses, listOf } from '../schemas.ts';
import type { TypedInstance } from '../typed.ts';

const SecretMeta = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String(), updatedAt: Type.String() });
const Value = Type.String({ maxLength: 65536, description: 'Stored encrypted (AES-256-GCM); never returned by the API' });

/** Secrets: values go in, only metadata comes out. */
export function secretRoutes(auth: AuthService, secrets: SecretService): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));
    const tags = ['secrets'];

    app.post('/secrets', {
      schema: { tags, summary: 'Store a secret', body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), value: Value }, { additionalProperties: false }), response: { 201: SecretMeta, ...errorResponses(400, 401, 409) } },
    }, async (request, reply) => reply.code(201).send(await secrets.create(principalOf(request), request.body.name, request.body.value)));

    app.get('/secrets', { schema: { tags, summary: 'Your secrets (names and dates only)', response: { 200: listOf(SecretMeta), ...errorResponses(401) } } },
      async (request) => ({ items: await secrets.list(principalOf(request)) }));

    app.get('/secrets/:id', { schema: { tags, summary: "A secret's metadata", params: IdParams, response: { 200: SecretMeta, ...errorResponses(401, 404) } } },
      async (request) => secrets.get(principalOf(request), request.params.id));

    app.put('/secrets/:id', {
      schema: { tags, summary: "Replace a secret's value", params: IdParams, body: Type.Object({ value: Value }, { additionalProperties: false }), response: { 200: SecretMeta, ...errorResponses(400, 401, 404) } },
    }, async (request) => secrets.update(principalOf(request), request.params.id, request.body.value));

    app.delete('/secrets/:id', { schema: { tags, summary: 'Delete a secret', params: IdParams, response: { 204: Type.Null(), ...errorResponses(401, 404) } } },
      async (request, reply) => {
        await secrets.delete(principalOf(request), request.params.id);
        return reply.code(204).send(null);
      });
  };
}
