import type { Principal } from '../core/types.ts';
import type { SandboxInstance } from '../sandbox/driver.ts';
import type { Scheduler } from './scheduler.ts';
import type { ManagedInstance } from './managed-instance.ts';

export interface InstanceView {
  id: string;
  functionId: string | null;
  functionName: string | null;
  version: number | null;
  runtime: string;
  state: string;
  pid: number | null;
  memoryBytes: number | null;
  uptimeMs: number;
  invocations: number;
  inFlight: number;
  idleMs: number | null;
}

async function memoryOf(sandbox: SandboxInstance): Promise<number | null> {
  try {
    return (await sandbox.stats()).memoryBytes;
  } catch {
    return null;
  }
}

const stemStarted = new WeakMap<SandboxInstance, number>();

/** Instances as `GET /api/vms` shows them: a user sees their functions' instances; admins also see stem cells. */
export async function listInstances(scheduler: Scheduler, viewer: Principal): Promise<InstanceView[]> {
  const { managed, stems } = scheduler.instances();
  const now = Date.now();
  const mine = managed.filter((i) => viewer.role === 'admin' || i.ownerId === viewer.userId);
  const views = await Promise.all(mine.map(async (i: ManagedInstance): Promise<InstanceView> => ({
    id: i.id,
    functionId: i.functionId,
    functionName: i.functionName,
    version: i.version,
    runtime: i.sandbox.runtime,
    state: i.sandbox.state,
    pid: i.sandbox.pid,
    memoryBytes: await memoryOf(i.sandbox),
    uptimeMs: now - i.startedAt,
    invocations: i.invocations,
    inFlight: i.inFlight,
    idleMs: i.inFlight === 0 ? now - i.lastUsedAt : 0,
  })));
  if (viewer.role !== 'admin') return views;
  const stemViews = await Promise.all(stems.map(async (s): Promise<InstanceView> => {
    if (!stemStarted.has(s)) stemStarted.set(s, now);
    return { id: s.id, functionId: null, functionName: null, version: null, runtime: s.runtime, state: s.state, pid: s.pid, memoryBytes: await memoryOf(s), uptimeMs: now - (stemStarted.get(s) ?? now), invocations: 0, inFlight: 0, idleMs: null };
  }));
  return [...views, ...stemViews];
}
