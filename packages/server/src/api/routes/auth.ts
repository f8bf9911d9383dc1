import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { ApiKey, ApiKeyCreate, Credentials, IdParams, LoginResult, NewApiKey, NoContent, User, errorResponses, listOf } from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

/** POST /auth/register and /auth/login: no credentials needed. */
export function publicAuthRoutes(auth: AuthService): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.post('/auth/register', {
      schema: {
        tags: ['auth'],
        summary: 'Register a user (the first one becomes admin)',
        body: Credentials,
        response: { 201: User, ...errorResponses(400, 403, 409) },
      },
    }, async (request, reply) => reply.code(201).send(await auth.register(request.body.username, request.body.password)));

    app.post('/auth/login', {
      schema: {
        tags: ['auth'],
        summary: 'Log in and get a session token (JWT)',
        body: Credentials,
        response: { 200: LoginResult, ...errorResponses(400, 401, 429) },
      },
    }, async (request) => auth.login(request.body.username, request.body.password, request.ip));
  };
}

/** The caller's identity and API keys. */
export function accountRoutes(auth: AuthService): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));

    app.get('/auth/me', { schema: { tags: ['auth'], summary: 'The authenticated user', response: { 200: User, ...errorResponses(401) } } },
      async (request) => auth.getUser(principalOf(request), principalOf(request).userId));

    app.post('/auth/api-key', {
      schema: {
        tags: ['auth'],
        summary: 'Create an API key (shown once)',
        body: ApiKeyCreate,
        response: { 201: NewApiKey, ...errorResponses(400, 401) },
      },
    }, async (request, reply) => reply.code(201).send(await auth.createApiKey(principalOf(request).userId, request.body?.name)));

    app.get('/auth/api-keys', { schema: { tags: ['auth'], summary: 'List your active API keys', response: { 200: listOf(ApiKey), ...errorResponses(401) } } },
      async (request) => ({ items: await auth.listApiKeys(principalOf(request).userId) }));

    app.delete('/auth/api-keys/:id', {
      schema: { tags: ['auth'], summary: 'Revoke an API key', params: IdParams, response: { 204: NoContent, ...errorResponses(401, 404) } },
    }, async (request, reply) => {
      await auth.revokeApiKey(principalOf(request).userId, request.params.id);
      return reply.code(204).send(null);
    });

    app.get('/users', { schema: { tags: ['users'], summary: 'List users (admin only)', response: { 200: listOf(User), ...errorResponses(401, 403) } } },
      async (request) => ({ items: await auth.listUsers(principalOf(request)) }));

    app.get('/users/:id', { schema: { tags: ['users'], summary: 'A user (yourself, or anyone for admins)', params: IdParams, response: { 200: User, ...errorResponses(401, 404) } } },
      async (request) => auth.getUser(principalOf(request), request.params.id));
  };
}
