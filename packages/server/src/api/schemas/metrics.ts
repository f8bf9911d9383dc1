import { Type } from 'typebox';
import { Nullable } from './common.ts';
import { InstanceRuntime, InstanceState } from './system.ts';

/** Each between 0 and 1. */
export const Utilisation = Type.Object({ cpu: Type.Number(), memory: Type.Number(), io: Type.Number() });

/** The last raw reading of an instance or process. */
export const LoadReading = Type.Object({
  cpuMs: Type.Number({ description: 'CPU time used since start' }),
  cpuCores: Type.Number({ description: 'Cores the CPU utilisation is measured against' }),
  memoryBytes: Type.Number(),
  memoryLimitBytes: Type.Number(),
  ioBytes: Nullable(Type.Number({ description: 'Block bytes read + written since start; null where unknown' })),
  sampledAt: Type.String({ format: 'date-time' }),
});

const loadValues = {
  raw: Nullable(LoadReading),
  utilisation: Nullable(Utilisation),
  ema: Nullable(Utilisation),
  score: Type.Number({ description: 'weights.cpu·ema.cpu + weights.memory·ema.memory + weights.io·ema.io' }),
  saturated: Type.Boolean({ description: 'score >= settings.saturationScore' }),
};

export const InstanceLoad = Type.Object({
  id: Type.String(),
  functionId: Type.String(),
  functionName: Type.String(),
  version: Type.Integer(),
  runtime: InstanceRuntime,
  state: InstanceState,
  inFlight: Type.Integer(),
  concurrency: Type.Integer(),
  ...loadValues,
});

export const WorkerLoad = Type.Object({
  id: Type.String({ description: 'WORKER_ID of the worker (default <hostname>-<pid>)' }),
  pid: Type.Integer(),
  cores: Type.Integer(),
  instances: Type.Integer(),
  stemCells: Type.Integer(),
  inFlight: Type.Integer(),
  ...loadValues,
});

export const LoadSettings = Type.Object({
  intervalMs: Type.Integer(),
  emaFactor: Type.Number({ description: 'ema = emaFactor·previous + (1 − emaFactor)·sample' }),
  weights: Utilisation,
  ioReferenceBytesPerSec: Type.Number(),
  saturationScore: Type.Number(),
});

/** What sampling costs the worker (admins only). */
export const SamplerCost = Type.Object({ ticks: Type.Integer(), meanTickMs: Type.Number(), lastTickMs: Type.Number(), lastInstances: Type.Integer() });

/** GET /metrics/workers: live load of your instances (admins: all, plus the worker processes and the sampler's cost). */
export const LoadReport = Type.Object({
  settings: LoadSettings,
  sampler: Nullable(SamplerCost),
  instances: Type.Array(InstanceLoad),
  workers: Nullable(Type.Array(WorkerLoad)),
});

export const PrometheusText = Type.String({ description: 'text/plain; version=0.0.4' });
