import type { ClusterView, InstanceLoadView, InstanceView, LoadReport, LoadValues, SessionPoolView, SystemReport } from '../core/ports/cluster.ts';
import type { Principal } from '../core/types.ts';
import type { SandboxDriver, SandboxInstance } from '../sandbox/driver.ts';
import type { InstancePool } from './instance-pool.ts';
import type { LoadTracker } from './load.ts';

async function memoryOf(sandbox: SandboxInstance): Promise<number | null> {
  try {
    return (await sandbox.stats()).memoryBytes;
  } catch {
    return null;
  }
}

/** A tracker's state as the API shows it. */
export function values(tracker: LoadTracker): LoadValues {
  const r = tracker.reading;
  return {
    raw: r === null ? null : { cpuMs: r.cpuMs, cpuCores: r.cpuCores, memoryBytes: r.memoryBytes, memoryLimitBytes: r.memoryLimitBytes, ioBytes: r.ioBytes, sampledAt: new Date(r.at).toISOString() },
    utilisation: tracker.utilisation,
    ema: tracker.ema,
    score: tracker.score,
    saturated: tracker.saturated,
  };
}

/** The embedded mode's cluster: this process's pool is the only worker. */
export class LocalClusterView implements ClusterView {
  readonly #pool: InstancePool;
  readonly #driver: SandboxDriver;
  readonly #workerId: string;
  readonly #stemStarted = new WeakMap<SandboxInstance, number>();

  constructor(pool: InstancePool, driver: SandboxDriver, workerId: string) {
    this.#pool = pool;
    this.#driver = driver;
    this.#workerId = workerId;
  }

  async system(): Promise<SystemReport> {
    return { sandbox: await this.#driver.probe(), node: process.version, platform: `${process.platform}-${process.arch}` };
  }

  async instances(viewer: Principal): Promise<InstanceView[]> {
    const { managed, stems } = this.#pool.instances();
    const now = Date.now();
    const mine = managed.filter((i) => viewer.role === 'admin' || i.ownerId === viewer.userId);
    const views = await Promise.all(mine.map(async (i): Promise<InstanceView> => ({
      id: i.id,
      workerId: this.#workerId,
      functionId: i.functionId,
      functionName: i.functionName,
      version: i.version,
      runtime: i.sandbox.runtime,
      state: i.sandbox.state,
      kind: i.kind,
      pid: i.sandbox.pid,
      memoryBytes: await memoryOf(i.sandbox),
      uptimeMs: now - i.startedAt,
      invocations: i.invocations,
      inFlight: i.inFlight,
      idleMs: i.inFlight === 0 ? now - i.lastUsedAt : 0,
    })));
    if (viewer.role !== 'admin') return views;
    const stemViews = await Promise.all(stems.map(async (s): Promise<InstanceView> => {
      if (!this.#stemStarted.has(s)) this.#stemStarted.set(s, now);
      return { id: s.id, workerId: this.#workerId, functionId: null, functionName: null, version: null, runtime: s.runtime, state: s.state, kind: 'stem', pid: s.pid, memoryBytes: await memoryOf(s), uptimeMs: now - (this.#stemStarted.get(s) ?? now), invocations: 0, inFlight: 0, idleMs: null };
    }));
    return [...views, ...stemViews];
  }

  async load(viewer: Principal): Promise<LoadReport> {
    const { managed, stems } = this.#pool.instances();
    const settings = this.#pool.options.load;
    const admin = viewer.role === 'admin';
    const instances = (admin ? managed : managed.filter((i) => i.ownerId === viewer.userId)).map((i): InstanceLoadView => ({
      id: i.id,
      functionId: i.functionId,
      functionName: i.functionName,
      version: i.version,
      runtime: i.sandbox.runtime,
      state: i.sandbox.state,
      inFlight: i.inFlight,
      concurrency: i.concurrency,
      ...values(i.load),
    }));
    if (!admin) return { settings, sampler: null, instances, workers: null };
    const { worker, cost } = this.#pool.sampler;
    return {
      settings,
      sampler: { ticks: cost.ticks, meanTickMs: cost.ticks === 0 ? 0 : cost.totalMs / cost.ticks, lastTickMs: cost.lastMs, lastInstances: cost.lastInstances },
      instances,
      workers: [{ id: this.#workerId, pid: worker.pid, cores: worker.cores, instances: managed.length, stemCells: stems.length, inFlight: managed.reduce((n, i) => n + i.inFlight, 0), ...values(worker.tracker) }],
    };
  }

  async sessionPools(functionId: string): Promise<SessionPoolView[]> {
    const iso = (ms: number): string => new Date(ms).toISOString();
    return this.#pool.sessionPools(functionId).map((p) => ({
      version: p.target.version,
      policy: p.target.stream,
      starting: p.starting,
      instances: p.instances.map((i) => (i.inFlight > 0 ? { id: i.id, state: 'busy' as const, since: iso(i.leasedAt), sessions: i.invocations } : { id: i.id, state: 'idle' as const, since: iso(i.lastUsedAt), sessions: i.invocations })),
    }));
  }
}
