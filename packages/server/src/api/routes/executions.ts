import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Static } from 'typebox';
import { AppError } from '../../core/errors.ts';
import type { Execution } from '../../core/types.ts';
import type { AuthService } from '../../auth/service.ts';
import type { ExecutionService, FunctionRef } from '../../executions/service.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import {
  ExecutionCreate, ExecutionListQuery, ExecutionLogs, ExecutionPage, ExecutionResponse, IdParams, InvokeEvent, InvokeQuery, NameParams, QueuedResponse, errorResponses,
} from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

const toResponse = ({ ownerId: _owner, ...e }: Execution) => e;

const invokeResponses = { 200: ExecutionResponse, 202: QueuedResponse, ...errorResponses(400, 401, 404, 409, 429, 502) };
const invokeDescription = 'Answers 200 with the execution record, or with ?result=true with the function\'s result alone (any JSON, as the function returned it); 202 when queued.';

export function executionRoutes(auth: AuthService, executions: ExecutionService): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));

    async function invoke(request: FastifyRequest, reply: FastifyReply, ref: FunctionRef, query: { async?: string; result?: string }) {
      const owner = principalOf(request);
      const event = request.body === undefined ? null : request.body;
      const isAsync = query.async === 'true' || String(request.headers['x-invocation-type'] ?? '').toLowerCase() === 'async';
      if (isAsync) {
        const key = request.headers['idempotency-key'];
        const { execution } = await executions.enqueue(owner, ref, event, typeof key === 'string' ? key : undefined);
        return reply.code(202).header('location', `/api/executions/${execution.id}`).send({ id: execution.id, status: execution.status });
      }
      const { execution, resultJson } = await executions.invokeSyncJson(owner, ref, event, request.body === undefined ? undefined : request.jsonText, 'sync', { requestId: request.id });
      void reply.header('x-execution-id', execution.id);
      // The request's own lines that follow ("request completed") name the execution too.
      if ((request.log as Logger).isLevelEnabled('info')) request.log = reply.log = request.log.child({ executionId: execution.id });
      if (query.result !== 'true') return reply.send(toResponse(execution));
      if (execution.status !== 'succeeded') {
        throw new AppError('EXECUTION_FAILED', `${execution.status}: ${execution.error?.message ?? 'the execution did not succeed'}`, { details: { executionId: execution.id, status: execution.status } });
      }
      return reply.type('application/json; charset=utf-8').send(resultJson);
    }

    app.post('/functions/:id/invoke', {
      schema: { tags: ['invoke'], summary: 'Invoke a function by id (sync; X-Invocation-Type: async or ?async=true for async)', description: invokeDescription, params: IdParams, querystring: InvokeQuery, body: InvokeEvent, response: invokeResponses },
    }, (request, reply) => invoke(request, reply, { id: request.params.id }, request.query));

    app.post('/functions/name/:name/invoke', {
      schema: { tags: ['invoke'], summary: 'Invoke a function by name', description: invokeDescription, params: NameParams, querystring: InvokeQuery, body: InvokeEvent, response: invokeResponses },
    }, (request, reply) => invoke(request, reply, { name: request.params.name }, request.query));

    app.post('/executions', {
      schema: {
        tags: ['executions'],
        summary: 'Queue an async execution (seed 001 shape)',
        body: ExecutionCreate,
        response: { 202: QueuedResponse, ...errorResponses(400, 401, 404, 409) },
      },
    }, async (request, reply) => {
      const functionId = request.body.functionId ?? request.body.function_id;
      if (functionId === undefined) throw new AppError('VALIDATION_FAILED', 'functionId is required');
      const key = request.headers['idempotency-key'];
      const { execution } = await executions.enqueue(principalOf(request), { id: functionId }, request.body.input ?? null, typeof key === 'string' ? key : undefined);
      return reply.code(202).header('location', `/api/executions/${execution.id}`).send({ id: execution.id, status: 'queued' as const });
    });

    async function list(request: FastifyRequest, query: Static<typeof ExecutionListQuery>, functionId: string | undefined) {
      const limit = query.limit === undefined ? undefined : Number(query.limit);
      const page = await executions.list(principalOf(request), { status: query.status, functionId, cursor: query.cursor, limit });
      return { items: page.items.map(toResponse), nextCursor: page.nextCursor };
    }

    app.get('/executions', { schema: { tags: ['executions'], summary: 'Your executions, newest first', querystring: ExecutionListQuery, response: { 200: ExecutionPage, ...errorResponses(400, 401, 404) } } },
      (request) => list(request, request.query, request.query.functionId));

    app.get('/executions/function/:id', { schema: { tags: ['executions'], summary: "A function's executions, newest first", params: IdParams, querystring: ExecutionListQuery, response: { 200: ExecutionPage, ...errorResponses(400, 401, 404) } } },
      (request) => list(request, request.query, request.params.id));

    app.get('/executions/:id', { schema: { tags: ['executions'], summary: 'An execution', params: IdParams, response: { 200: ExecutionResponse, ...errorResponses(401, 404) } } },
      async (request) => toResponse(await executions.get(principalOf(request), request.params.id)));

    app.get('/executions/:id/logs', {
      schema: { tags: ['executions'], summary: "An execution's captured stdout/stderr", params: IdParams, response: { 200: ExecutionLogs, ...errorResponses(401, 404) } },
    }, async (request) => executions.logs(principalOf(request), request.params.id));
  };
}
