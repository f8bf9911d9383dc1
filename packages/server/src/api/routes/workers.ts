import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import { AppError } from '../../core/errors.ts';
import type { RegisteredWorker, WorkerDirectory } from '../../core/ports/workers.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { WorkerList, errorResponses, type Worker } from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

/** A registered worker as the API lists it. */
export function workerView(w: RegisteredWorker): Worker {
  const ema = w.load.ema ?? { cpu: 0, memory: 0, io: 0 };
  return {
    id: w.id,
    roles: w.roles,
    state: w.status,
    host: w.host,
    pid: w.pid,
    load: { score: w.load.score, saturated: w.load.saturated, cpu: ema.cpu, memory: ema.memory, io: ema.io },
    capacity: w.capacity,
    inFlight: w.inFlight,
    queued: w.queued,
    instances: w.instances.filter((i) => i.kind !== 'stem').length,
    lastHeartbeatAt: new Date(w.receivedAt).toISOString(),
    startedAt: new Date(w.startedAt).toISOString(),
  };
}

/** GET /workers: the registry's workers. Admins only, like the worker totals of /metrics/workers. */
export function workerRoutes(auth: AuthService, workers: WorkerDirectory): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));
    app.get('/workers', {
      schema: { tags: ['workers'], summary: 'The workers of the cluster from their heartbeats: state, load, capacity (admins only)', response: { 200: WorkerList, ...errorResponses(401, 403) } },
    }, async (request) => {
      if (principalOf(request).role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins can list workers');
      return { workers: (await workers.list()).map(workerView) };
    });
  };
}
