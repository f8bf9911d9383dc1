import os from 'node:os';
import type { Role, WorkerSettings } from '../config/options.ts';
import type { HeartbeatInstance, WarmVersion, WorkerHeartbeat, WorkerState } from '../core/ports/workers.ts';
import { values } from '../worker/cluster-view.ts';
import type { InstancePool } from '../worker/instance-pool.ts';
import { LoadTracker } from '../worker/load.ts';

/** This process as a worker: what its heartbeat says besides the pool's state. */
export interface WorkerIdentity {
  settings: WorkerSettings;
  roles: readonly Role[];
  /** Epoch ms the process started (default: now, when the identity is made). */
  startedAt?: number;
}

/**
 * A heartbeat from the local pool: instances with their load (read from the sampler's last tick, no
 * extra stats call), what waits, the worker process's totals. Cheap enough to build every interval.
 */
export function heartbeatOf(pool: InstancePool, identity: Required<WorkerIdentity>, state: WorkerState, now = Date.now()): WorkerHeartbeat {
  const { managed, stems } = pool.instances();
  const { worker } = pool.sampler;
  const { id, maxConcurrentExecutions, heartbeatIntervalMs } = identity.settings;
  const idle = new LoadTracker(pool.options.load);
  const instances: HeartbeatInstance[] = managed.map((i) => ({
    id: i.id,
    workerId: id,
    ownerId: i.ownerId,
    functionId: i.functionId,
    functionName: i.functionName,
    version: i.version,
    runtime: i.sandbox.runtime,
    state: i.sandbox.state,
    kind: i.kind,
    pid: i.sandbox.pid,
    memoryBytes: i.load.reading?.memoryBytes ?? null,
    uptimeMs: now - i.startedAt,
    invocations: i.invocations,
    inFlight: i.inFlight,
    idleMs: i.inFlight === 0 ? now - i.lastUsedAt : 0,
    concurrency: i.concurrency,
    load: values(i.load),
  }));
  for (const s of stems) {
    instances.push({ id: s.id, workerId: id, ownerId: null, functionId: null, functionName: null, version: null, runtime: s.runtime, state: s.state, kind: 'stem', pid: s.pid, memoryBytes: null, uptimeMs: 0, invocations: 0, inFlight: 0, idleMs: null, concurrency: 1, load: values(idle) });
  }
  const warm = new Map<string, WarmVersion>();
  for (const i of managed) {
    if (!i.alive || i.kind !== 'invoke') continue;
    const key = `${i.functionId}@${i.version}`;
    const entry = warm.get(key) ?? { functionId: i.functionId, version: i.version, idle: 0 };
    if (i.canTake(i.concurrency)) entry.idle++;
    warm.set(key, entry);
  }
  const inFlight = managed.reduce((n, i) => n + i.inFlight, 0);
  return {
    id,
    roles: [...identity.roles],
    pid: process.pid,
    host: os.hostname(),
    startedAt: identity.startedAt,
    sentAt: now,
    intervalMs: heartbeatIntervalMs,
    state,
    capacity: { maxConcurrentExecutions, maxInstances: pool.options.maxTotalInstances },
    inFlight,
    queued: pool.waiting().reduce((n, w) => n + w.waiters, 0),
    load: { id, pid: worker.pid, cores: worker.cores, instances: managed.length, stemCells: stems.length, inFlight, ...values(worker.tracker) },
    instances,
    warm: [...warm.values()],
  };
}
