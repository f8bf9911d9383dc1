import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../../auth/service.ts';
import type { ClusterView } from '../../core/ports/cluster.ts';
import type { WorkerDirectory } from '../../core/ports/workers.ts';
import { notFound } from '../../core/errors.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { IdParams, Instance, InstanceList, SystemInfo, errorResponses } from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

/** GET /vms (seed 000's name for instances) and GET /system (what the host's sandbox supports). */
/** How this platform is laid out: the parts of GET /system's `topology` that do not change. */
export interface Topology {
  mode: 'embedded' | 'distributed';
  store: 'sqlite' | 'postgres';
  bus: 'memory' | 'nats';
}

export function systemRoutes(auth: AuthService, cluster: ClusterView, topology: Topology, workers: WorkerDirectory): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));

    app.get('/vms', { schema: { tags: ['instances'], summary: 'Running instances of your functions (admins also see stem cells)', response: { 200: InstanceList, ...errorResponses(401) } } },
      async (request) => ({ items: await cluster.instances(principalOf(request)) }));

    app.get('/vms/:id', { schema: { tags: ['instances'], summary: 'One instance', params: IdParams, response: { 200: Instance, ...errorResponses(401, 404) } } },
      async (request) => {
        const found = (await cluster.instances(principalOf(request))).find((i) => i.id === request.params.id);
        if (found === undefined) throw notFound('Instance');
        return found;
      });

    app.get('/system', { schema: { tags: ['system'], summary: 'Sandbox capabilities of the workers\' hosts (isolation, cgroup limits, runtimes) and the topology: mode, store, bus, workers', response: { 200: SystemInfo, ...errorResponses(401) } } },
      async () => ({ ...(await cluster.system()), topology: { ...topology, workers: (await workers.list()).map((w) => ({ id: w.id, roles: [...w.roles], state: w.status })) } }));
  };
}
