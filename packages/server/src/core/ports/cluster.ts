import type { LoadSettings, Utilisation } from '../../config/options.ts';
import type { SandboxCapabilities } from '../../sandbox/driver.ts';
import type { InstanceState } from '../instance-state.ts';
import type { Principal, Runtime } from '../types.ts';

/**
 * What the API shows of running instances and load: this process's pool in the embedded mode, the
 * workers' heartbeats when distributed. Users see their own functions' instances; admins see all.
 */
export interface ClusterView {
  /** GET /api/vms */
  instances(viewer: Principal): Promise<InstanceView[]>;
  /** GET /api/metrics/workers */
  load(viewer: Principal): Promise<LoadReport>;
  /** GET /api/v1/system: what the workers' hosts support (the sandbox driver's capabilities). */
  system(): Promise<SystemReport>;
  /** The instances kept for a function's stream sessions, per version (its owner was checked by the caller). */
  sessionPools(functionId: string): Promise<SessionPoolView[]>;
}

export interface SessionPoolView {
  version: number;
  policy: { minFree: number; idleTimeoutMs: number };
  /** Instances being started (cold starts and minFree top-ups). */
  starting: number;
  instances: Array<{ id: string; state: 'busy' | 'idle'; since: string; sessions: number }>;
}

export interface InstanceView {
  id: string;
  /** WORKER_ID of the worker it runs on. */
  workerId: string;
  functionId: string | null;
  functionName: string | null;
  version: number | null;
  runtime: Runtime;
  state: InstanceState;
  /** `invoke` (shared by invocations), `stream` (one session at a time), or `stem` (not specialised yet). */
  kind: 'invoke' | 'stream' | 'stem';
  pid: number | null;
  memoryBytes: number | null;
  uptimeMs: number;
  invocations: number;
  inFlight: number;
  idleMs: number | null;
}

export interface LoadValues {
  /** The last raw reading, null before the first sample. */
  raw: { cpuMs: number; cpuCores: number; memoryBytes: number; memoryLimitBytes: number; ioBytes: number | null; sampledAt: string } | null;
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
  runtime: Runtime;
  state: InstanceState;
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
  /** Admins only: every worker with the totals of what it runs. */
  workers: WorkerLoadView[] | null;
}

export interface SystemReport {
  sandbox: SandboxCapabilities;
  node: string;
  platform: string;
}
