import type { Principal } from '../core/types.ts';
import type { LoadReading, LoadSettings, LoadTracker, Utilisation } from './load.ts';
import type { ManagedInstance } from './managed-instance.ts';
import type { Scheduler } from './scheduler.ts';

interface LoadValues {
  /** The last raw reading, null before the first sample. */
  raw: (Omit<LoadReading, 'at'> & { sampledAt: string }) | null;
  /** Utilisations between the last two readings (null until there are two). */
  utilisation: Utilisation | null;
  ema: Utilisation | null;
  score: number;
  saturated: boolean;
}

export interface InstanceLoadView extends LoadValues {
  id: string;
  functionId: string;
  functionName: string;
  version: number;
  runtime: string;
  state: string;
  inFlight: number;
  concurrency: number;
}

export interface WorkerLoadView extends LoadValues {
  id: string;
  pid: number;
  cores: number;
  instances: number;
  stemCells: number;
  inFlight: number;
}

export interface LoadReport {
  settings: LoadSettings;
  sampler: { ticks: number; meanTickMs: number; lastTickMs: number; lastInstances: number } | null;
  instances: InstanceLoadView[];
  /** Admins only: this worker process with the totals of everything it runs. */
  workers: WorkerLoadView[] | null;
}

function values(tracker: LoadTracker): LoadValues {
  const r = tracker.reading;
  return {
    raw: r === null ? null : { cpuMs: r.cpuMs, cpuCores: r.cpuCores, memoryBytes: r.memoryBytes, memoryLimitBytes: r.memoryLimitBytes, ioBytes: r.ioBytes, sampledAt: new Date(r.at).toISOString() },
    utilisation: tracker.utilisation,
    ema: tracker.ema,
    score: tracker.score,
    saturated: tracker.saturated,
  };
}

/** Live load for GET /metrics/workers: users see their own instances; admins see all and the worker totals. */
export function loadReport(scheduler: Scheduler, viewer: Principal): LoadReport {
  const { managed, stems } = scheduler.instances();
  const admin = viewer.role === 'admin';
  const visible = admin ? managed : managed.filter((i) => i.ownerId === viewer.userId);
  const instances = visible.map((i: ManagedInstance): InstanceLoadView => ({
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
  if (!admin) return { settings: scheduler.loadSettings, sampler: null, instances, workers: null };
  const { worker, cost } = scheduler.sampler;
  return {
    settings: scheduler.loadSettings,
    sampler: { ticks: cost.ticks, meanTickMs: cost.ticks === 0 ? 0 : cost.totalMs / cost.ticks, lastTickMs: cost.lastMs, lastInstances: cost.lastInstances },
    instances,
    workers: [{
      id: worker.id,
      pid: worker.pid,
      cores: worker.cores,
      instances: managed.length,
      stemCells: stems.length,
      inFlight: managed.reduce((n, i) => n + i.inFlight, 0),
      ...values(worker.tracker),
    }],
  };
}
