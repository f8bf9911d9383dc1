import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import { requestIdOf } from '../core/request-context.ts';
import { AppError } from '../core/errors.ts';
import type { AuthService } from '../auth/service.ts';
import type { FunctionService } from '../functions/service.ts';
import type { ExecutionService } from '../executions/service.ts';
import type { ClusterView } from '../core/ports/cluster.ts';
import type { WorkerDirectory } from '../core/ports/workers.ts';
import { workerRoutes } from './routes/workers.ts';
import { executionRoutes } from './routes/executions.ts';
import { systemRoutes, type Topology } from './routes/system.ts';
import { secretRoutes } from './routes/secrets.ts';
import { objectRoutes } from './routes/objects.ts';
import type { ObjectService } from '../objects/service.ts';
import type { SecretService } from '../secrets/service.ts';
import { sendError } from './errors.ts';
import { registerJsonBodyParser } from './json-body.ts';
import { ErrorResponse } from './schemas/index.ts';
import { accountRoutes, publicAuthRoutes } from './routes/auth.ts';
import { functionRoutes } from './routes/functions.ts';
import { uploadRoutes } from './routes/upload.ts';
import { healthRoutes } from './routes/health.ts';
import { loadRoutes, prometheusRoutes, type MetricsAccess } from './routes/metrics.ts';
import { streamRoutes } from './routes/streams.ts';
import type { StreamService } from '../streams/stream-service.ts';
import type { ConnectionLimits } from '../config/options.ts';
import { ConnectionGuard, httpTimeouts } from '../net/connection-guard.ts';

export interface ApiDeps {
  logger: Logger;
  auth: AuthService;
  functions: FunctionService;
  executions: ExecutionService;
  secrets: SecretService;
  objects: ObjectService;
  cluster: ClusterView;
  /** GET /workers: the worker registry. */
  workers: WorkerDirectory;
  /** GET /system's topology: the mode, the store and the bus. */
  topology: Topology;
  streams: StreamService;
  isReady: () => Promise<boolean>;
  maxBodyBytes: number;
  maxBundleBytes: number;
  /** Timeouts and connection caps of the port (docs/limits.md). */
  connections: ConnectionLimits;
  /** GET /metrics: the exposition and who may read it. */
  prometheus: { exposition: () => Promise<{ contentType: string; body: string }>; access: MetricsAccess };
}

/** The control-plane API below /api/v1; every route is also answered below /api (an alias the OpenAPI document leaves out). */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.maxBodyBytes,
    trustProxy: false,
    routerOptions: { maxParamLength: 1024 },
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    // Every plane's log lines name the request the same way.
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false, strictTypes: false } },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // A graceful stop lets requests in flight finish (their invocations answer); idle keep-alive connections close at once.
    forceCloseConnections: 'idle',
    // Not connectionTimeout: it closes a connection idle for that long, so a sync invocation longer than it too.
    // Slow readers are the guard's (HTTP_SEND_TIMEOUT_MS).
    keepAliveTimeout: deps.connections.keepAliveTimeoutMs,
    requestTimeout: deps.connections.requestTimeoutMs,
    http: httpTimeouts(deps.connections),
  });
  new ConnectionGuard(app.server, deps.connections, deps.logger, 'control');

  registerJsonBodyParser(app);
  app.decorateRequest('principal', null);
  // A callback hook, not an async one: it runs on every request and needs no promise.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.setErrorHandler((err: FastifyError, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new AppError('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`)));
  app.addSchema(ErrorResponse);

  await app.register(cors, { origin: true, credentials: false, exposedHeaders: ['x-request-id', 'retry-after', 'www-authenticate'] });
  await app.register(multipart, { limits: { fileSize: deps.maxBundleBytes, files: 1 } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Skyscale API', version: '0.1.0', description: 'Control plane of the Skyscale serverless platform.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes(deps.isReady));
  await app.register(publicAuthRoutes(deps.auth));
  await app.register(prometheusRoutes(deps.auth, deps.prometheus.exposition, deps.prometheus.access));
  await app.register(uploadRoutes(deps.auth, deps.functions, deps.maxBundleBytes));
  // /api/... answers as /api/v1/... does, but the OpenAPI document lists each operation once, under /api/v1.
  app.addHook('onRoute', (route) => {
    if (route.prefix === '/api') route.schema = { ...route.schema, hide: true };
  });
  for (const prefix of ['/api', '/api/v1']) {
    await app.register(publicAuthRoutes(deps.auth), { prefix });
    await app.register(accountRoutes(deps.auth), { prefix });
    await app.register(functionRoutes(deps.auth, deps.functions, deps.maxBundleBytes), { prefix });
    await app.register(executionRoutes(deps.auth, deps.executions), { prefix });
    await app.register(systemRoutes(deps.auth, deps.cluster, deps.topology, deps.workers), { prefix });
    await app.register(loadRoutes(deps.auth, deps.cluster), { prefix });
    await app.register(workerRoutes(deps.auth, deps.workers), { prefix });
    await app.register(secretRoutes(deps.auth, deps.secrets), { prefix });
    await app.register(objectRoutes(deps.auth, deps.objects), { prefix });
    await app.register(streamRoutes(deps.auth, deps.streams), { prefix });
  }
  return app;
}
