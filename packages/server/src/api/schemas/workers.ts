import { Type, type Static } from 'typebox';
import { ROLES } from '../../config/options.ts';
import { StringEnum } from './common.ts';

/** GET /workers: one worker of the cluster as its last heartbeat described it (admins only). */
export const Worker = Type.Object({
  id: Type.String({ description: 'WORKER_ID (default <hostname>-<pid>)' }),
  roles: Type.Array(StringEnum(ROLES)),
  state: StringEnum(['ready', 'draining', 'lost'], { description: 'ready: takes new work; draining: finishing what it runs, out of placement; lost: no heartbeat for 3 of its intervals' }),
  host: Type.String(),
  pid: Type.Integer(),
  load: Type.Object({
    score: Type.Number({ description: 'The worker process\'s load score (docs/metrics.md)' }),
    saturated: Type.Boolean(),
    cpu: Type.Number({ description: 'EMA of CPU utilisation, 0..1 (0 before two samples)' }),
    memory: Type.Number(),
    io: Type.Number(),
  }),
  capacity: Type.Object({ maxConcurrentExecutions: Type.Integer(), maxInstances: Type.Integer() }),
  inFlight: Type.Integer({ description: 'Leases held over all its instances' }),
  queued: Type.Integer({ description: 'Invocations waiting for an instance' }),
  instances: Type.Integer({ description: 'Function instances it runs (stem cells not counted)' }),
  lastHeartbeatAt: Type.String({ format: 'date-time' }),
  startedAt: Type.String({ format: 'date-time' }),
});

export const WorkerList = Type.Object({ workers: Type.Array(Worker) });
export type Worker = Static<typeof Worker>;
