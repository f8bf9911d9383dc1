import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AuthService } from '../../auth/service.ts';
import { AppError } from '../../core/errors.ts';
import type { ClusterView } from '../../core/ports/cluster.ts';
import { authenticateHook, credentialOf, principalOf } from '../auth-hook.ts';
import { errorResponses } from '../schemas.ts';
import type { TypedInstance } from '../typed.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Utilisation = Type.Object({ cpu: Type.Number(), memory: Type.Number(), io: Type.Number() });
const Raw = Type.Object({
  cpuMs: Type.Number({ description: 'CPU time used since start' }),
  cpuCores: Type.Number({ description: 'Cores the CPU utilisation is measured against' }),
  memoryBytes: Type.Number(),
  memoryLimitBytes: Type.Number(),
  ioBytes: Nullable(Type.Number({ description: 'Block bytes read + written since start; null where unknown' })),
  sampledAt: Type.String({ format: 'date-time' }),
});
const LoadValues = {
  raw: Nullable(Raw),
  utilisation: Nullable(Utilisation),
  ema: Nullable(Utilisation),
  score: Type.Number({ description: 'weights.cpu·ema.cpu + weights.memory·ema.memory + weights.io·ema.io' }),
  saturated: Type.Boolean({ description: 'score >= settings.saturationScore' }),
};
const InstanceLoad = Type.Object({
  id: Type.String(),
  functionId: Type.String(),
  functionName: Type.String(),
  version: Type.Integer(),
  runtime: Type.String(),
  state: Type.String(),
  inFlight: Type.Integer(),
  concurrency: Type.Integer(),
  ...LoadValues,
});
const WorkerLoad = Type.Object({
  id: Type.String({ description: 'host:pid of the worker process' }),
  pid: Type.Integer(),
  cores: Type.Integer(),
  instances: Type.Integer(),
  stemCells: Type.Integer(),
  inFlight: Type.Integer(),
  ...LoadValues,
});
const LoadReport = Type.Object({
  settings: Type.Object({
    intervalMs: Type.Integer(),
    emaFactor: Type.Number({ description: 'ema = emaFactor·previous + (1 − emaFactor)·sample' }),
    weights: Utilisation,
    ioReferenceBytesPerSec: Type.Number(),
    saturationScore: Type.Number(),
  }),
  sampler: Nullable(Type.Object({ ticks: Type.Integer(), meanTickMs: Type.Number(), lastTickMs: Type.Number(), lastInstances: Type.Integer() })),
  instances: Type.Array(InstanceLoad),
  workers: Nullable(Type.Array(WorkerLoad)),
});

/** GET /metrics/workers: live load values, scoped to the caller's instances (admins: all, plus the worker). */
export function loadRoutes(auth: AuthService, cluster: ClusterView): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));
    app.get('/metrics/workers', {
      schema: { tags: ['metrics'], summary: 'Live load of your function instances (admins: all instances and the worker process totals)', response: { 200: LoadReport, ...errorResponses(401) } },
    }, async (request) => cluster.load(principalOf(request)));
  };
}

export interface MetricsAccess {
  mode: 'token' | 'loopback' | 'open';
  token: string | undefined;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Who may scrape: admins and holders of METRICS_TOKEN always; loopback clients or anyone when configured so. */
async function authorise(request: FastifyRequest, auth: AuthService, access: MetricsAccess, tokenDigest: Buffer | null): Promise<void> {
  if (access.mode === 'open') return;
  if (access.mode === 'loopback' && LOOPBACK.test(request.socket.remoteAddress ?? '')) return;
  const credential = credentialOf(request);
  if (credential === undefined) throw new AppError('UNAUTHENTICATED', 'GET /metrics needs an admin token, API key or METRICS_TOKEN');
  if (tokenDigest !== null && timingSafeEqual(digest(credential), tokenDigest)) return;
  if (credential.length > 4096) throw new AppError('INVALID_TOKEN');
  const principal = await auth.authenticate(credential);
  if (principal.role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins (or METRICS_TOKEN) may read /metrics');
}

/** GET /metrics: Prometheus text exposition of the whole process. */
export function prometheusRoutes(auth: AuthService, exposition: () => Promise<{ contentType: string; body: string }>, access: MetricsAccess): FastifyPluginAsync {
  const tokenDigest = access.token === undefined ? null : digest(access.token);
  return async (app) => {
    app.get('/metrics', {
      schema: {
        tags: ['metrics'],
        summary: 'Prometheus metrics (text exposition format 0.0.4); access per METRICS_ACCESS / METRICS_TOKEN',
        response: { 200: { type: 'string', description: 'text/plain; version=0.0.4' }, ...errorResponses(401, 403) },
      },
    }, async (request, reply) => {
      await authorise(request, auth, access, tokenDigest);
      const { contentType, body } = await exposition();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    });
  };
}
