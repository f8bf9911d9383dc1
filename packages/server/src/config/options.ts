/**
 * Option types of the components and their defaults. Components import their options from here;
 * this file imports nothing, so any folder may depend on it.
 */

export interface LoadSettings {
  /** How often every instance is sampled (one timer for all). */
  intervalMs: number;
  /** EMA weight of the history: ema = factor·previous + (1 − factor)·new sample. 0 = no smoothing. */
  emaFactor: number;
  /** Score weights; validated to sum to 1, so the score stays in 0..1. */
  weights: Utilisation;
  /** Block I/O rate (bytes/s, read + write) that counts as an I/O utilisation of 1. */
  ioReferenceBytesPerSec: number;
  /** An instance at or above this score is saturated: it takes work only when nothing better is free. */
  saturationScore: number;
}

/** docs/metrics.md explains each value. */
export const DEFAULT_LOAD_SETTINGS: LoadSettings = Object.freeze({
  intervalMs: 500,
  emaFactor: 0.7,
  weights: Object.freeze({ cpu: 0.5, memory: 0.3, io: 0.2 }),
  ioReferenceBytesPerSec: 50 * 1024 * 1024,
  saturationScore: 0.4,
});

export interface Utilisation {
  cpu: number;
  memory: number;
  io: number;
}


/** How each instance's CPU quota is chosen (docs/sandbox.md#cpu). */
export interface CpuQuotaPolicy {
  /** Memory that buys one full core: a function's quota is memoryMb / mbPerCore cores (AWS Lambda's ratio: 1769). */
  mbPerCore: number;
  /** The least quota in percent of a core, whatever the memory; also the least a function may ask for. */
  minPercent: number;
  /** The most, derived or asked for. */
  maxPercent: number;
}

/** Without MAX_CPU_QUOTA_PERCENT the most is all of the host's cores (config.ts). */
export const DEFAULT_CPU_QUOTA: Omit<CpuQuotaPolicy, 'maxPercent'> = Object.freeze({ mbPerCore: 1769, minPercent: 25 });
/** How each public port (control API, gateway) treats its connections; docs/limits.md explains each value. */
export interface ConnectionLimits {
  /** From a connection's first byte (or a request's, on a kept-alive connection) to the end of the headers. */
  readonly headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (answering it may take longer). */
  readonly requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Response bytes the client has not taken for this long end the connection (slow readers). */
  readonly sendTimeoutMs: number;
  /** Connections open at once on the port; more are closed as they arrive. */
  readonly maxConnections: number;
  /** Connections open at once from one client address; more are answered 429 TOO_MANY_CONNECTIONS. */
  readonly maxConnectionsPerAddress: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 10_000,
  sendTimeoutMs: 30_000,
  maxConnections: 4096,
  maxConnectionsPerAddress: 256,
});

/** Connections functions may hold open to their host API ($API_BASE_URL) on this node. */
export interface HostApiLimits {
  /** The bootstrap forwards this many at once; further ones wait inside the sandbox. */
  readonly maxConnectionsPerInstance: number;
  /** Across all instances of one owner; past it a connection is answered 429 TOO_MANY_CONNECTIONS. */
  readonly maxConnectionsPerOwner: number;
}

export const DEFAULT_HOST_API_LIMITS: HostApiLimits = Object.freeze({ maxConnectionsPerInstance: 16, maxConnectionsPerOwner: 256 });

/** The per-node instance pool (worker/instance-pool.ts). */
export interface PoolOptions {
  /** An idle instance of a function is stopped after this long (stream instances: their function's policy). */
  idleTtlMs: number;
  /** Invocations of one version waiting for a free instance; beyond it they are refused (429). */
  maxQueuedPerFunction: number;
  /** Invocations waiting for a free instance on the node, of every function together. */
  maxQueued: number;
  /** Every instance the node runs (stem cells aside), shared and exclusive alike. */
  maxTotalInstances: number;
  /** The fraction of maxTotalInstances and of maxQueued one owner may hold (ownerCap). */
  ownerShare: number;
  cpu: CpuQuotaPolicy;
  load: LoadSettings;
  hostApi: HostApiLimits;
}

/** The default MAX_OWNER_SHARE: an owner holding all it may still leaves as much to the others. */
export const DEFAULT_OWNER_SHARE = 0.5;

/** How many of `total` units (instances, queue slots, async slots) one owner may hold: at least 1 of any. */
export function ownerCap(total: number, share: number): number {
  return total === 0 ? 0 : Math.max(1, Math.floor(total * share));
}

/** The async execution consumer (executions/async-worker.ts). */
export interface AsyncWorkerOptions {
  concurrency: number;
  /** The fraction of `concurrency` one owner's executions may hold at once (ownerCap). */
  ownerShare: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long a lease lasts without renewal; the worker renews it at a third of this while it runs. */
  leaseMs: number;
  pollMs: number;
  /**
   * Every lease found at start belonged to a dead process (the embedded mode holds the data
   * directory's lock, so no other live process can hold one): reclaim them at once.
   */
  reclaimAllAtStart: boolean;
}

/** WebSocket stream sessions (docs/streams.md). */
export interface StreamLimits {
  /** A session longer than this is ended (the instance is killed: `timed_out`). */
  readonly maxDurationMs: number;
  /** After the client went away, the handler has this long to return before its instance is killed. */
  readonly endGraceMs: number;
  readonly maxMessageBytes: number;
}

/** Which bus to open (bus/index.ts openBus): in-process, or NATS with JetStream (NATS_URL). */
export type BusConfig = { readonly kind: 'memory' } | { readonly kind: 'nats'; readonly urls: readonly string[] };

/** Which store to open (store/index.ts openStore). */
export type StoreConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  /** DATABASE_URL: several processes share it (distributed mode, docs/deploy.md). */
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };

/** The parts of the platform one process can run (`skyscale serve --role`); none given = all of them, embedded. */
export const ROLES = ['control', 'gateway', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** A worker node in distributed mode (`--role worker`). */
export interface WorkerSettings {
  /** Its name on the bus and in the registry (WORKER_ID): one NATS subject token, so no dots or spaces. */
  readonly id: string;
  /** Executions it runs at once, its slots (seed 001's MAX_CONCURRENT_EXECUTIONS). */
  readonly maxConcurrentExecutions: number;
  /** How often it announces itself and its load. */
  readonly heartbeatIntervalMs: number;
}

export const DEFAULT_WORKER_SETTINGS: Omit<WorkerSettings, 'id'> = Object.freeze({ maxConcurrentExecutions: 10, heartbeatIntervalMs: 2000 });

/** Leases of async executions in distributed mode. */
export interface ClusterSettings {
  /** An async execution's lease, renewed at a third of it; also the work queue's ack wait. */
  readonly leaseMs: number;
  readonly reapEveryMs: number;
}

/** What changes the number of workers when the autoscaler decides (AUTOSCALER_ACTUATOR). */
export type ActuatorSettings =
  /** It decides and logs, changes nothing: the operator or the orchestrator sizes the workers. */
  | { readonly kind: 'none' }
  /** Starts and stops `skyscale serve --role worker` processes on this host. */
  | { readonly kind: 'local' }
  /** Patches the scale of a Deployment (deploy/kubernetes grants exactly that). */
  | { readonly kind: 'kubernetes'; readonly namespace: string; readonly deployment: string }
  /** Runs an operator's shell command with the wanted count (docs/deploy.md). */
  | { readonly kind: 'command'; readonly command: string };

/** The queue-depth autoscaler (seed 001's settings and defaults; docs/deploy.md). */
export interface AutoscalerSettings {
  readonly minWorkers: number;
  readonly maxWorkers: number;
  /** Executions (queued or running) per worker at or above which it scales up, to ceil(demand / this) workers at once (autoscaler/decide.ts). */
  readonly scaleUpThreshold: number;
  /** Executions per worker at or below which one worker is removed; below scaleUpThreshold, so it cannot flap. */
  readonly scaleDownThreshold: number;
  readonly checkIntervalMs: number;
  /** The least time between two changes of the worker count. */
  readonly cooldownMs: number;
  readonly actuator: ActuatorSettings;
}

export const DEFAULT_AUTOSCALER_SETTINGS: Omit<AutoscalerSettings, 'actuator'> = Object.freeze({
  minWorkers: 2,
  maxWorkers: 10,
  scaleUpThreshold: 3,
  scaleDownThreshold: 2,
  checkIntervalMs: 30_000,
  cooldownMs: 30_000,
});
