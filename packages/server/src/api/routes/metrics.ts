import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import { AppError } from '../../core/errors.ts';
import type { ClusterView } from '../../core/ports/cluster.ts';
import { authenticateHook, credentialOf, principalOf } from '../auth-hook.ts';
import { LoadReport, PrometheusText, errorResponses } from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

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
  const principal = await auth.authenticate(credential, request.ip);
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
        response: { 200: PrometheusText, ...errorResponses(401, 403) },
      },
    }, async (request, reply) => {
      await authorise(request, auth, access, tokenDigest);
      const { contentType, body } = await exposition();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    });
  };
}
