import type { Role } from '../../config/options.ts';
import type { InstanceView, LoadValues, WorkerLoadView } from './cluster.ts';

/**
 * The worker registry: every worker puts a heartbeat into a store shared by the cluster (a TTL'd
 * key-value bucket on the bus when distributed, memory in the embedded mode); the control role reads
 * them for placement, GET /api/v1/workers, /api/vms and /api/v1/metrics/workers. Heartbeats are plain
 * JSON data, so any store can carry them.
 */

/** `ready`: takes new work; `draining`: finishing what it runs, out of placement. */
export type WorkerState = 'ready' | 'draining';

/** An instance as a heartbeat carries it: its view, its owner (for filtering per viewer, never shown) and its load. */
export interface HeartbeatInstance extends InstanceView {
  /** The function's owner; null for a stem cell. The API filters by it and leaves it out of what it shows. */
  ownerId: string | null;
  /** Leases it takes at once (1 for stream and stem instances). */
  concurrency: number;
  load: LoadValues;
}

/** A function version with instances loaded on a worker (for placement: warm starts). */
export interface WarmVersion {
  functionId: string;
  version: number;
  /** Of them, how many take a lease now without waiting. */
  idle: number;
}

export interface WorkerHeartbeat {
  /** WORKER_ID. */
  id: string;
  roles: Role[];
  pid: number;
  host: string;
  /** Epoch ms the worker process started. */
  startedAt: number;
  /** Epoch ms (the worker's clock) it built this heartbeat. */
  sentAt: number;
  /** How often it sends one (HEARTBEAT_INTERVAL_MS): three missed and it counts as lost. */
  intervalMs: number;
  state: WorkerState;
  capacity: { maxConcurrentExecutions: number; maxInstances: number };
  /** Leases held now over all its instances. */
  inFlight: number;
  /** Invocations waiting for an instance. */
  queued: number;
  load: WorkerLoadView;
  instances: HeartbeatInstance[];
  warm: WarmVersion[];
}

/** A heartbeat as stored: `receivedAt` is the store's time of the put (the reader's clock, not the worker's). */
export type StoredHeartbeat = WorkerHeartbeat & { receivedAt: number };

/** Where heartbeats are kept, one per worker id (the latest wins). */
export interface HeartbeatStore {
  put(heartbeat: WorkerHeartbeat): Promise<void>;
  /** Every heartbeat the store still holds (its TTL drops the long gone). */
  all(): Promise<StoredHeartbeat[]>;
  remove(id: string): Promise<void>;
}

/** `lost`: no heartbeat for three of its intervals; out of placement, listed until the store forgets it. */
export type WorkerStatus = WorkerState | 'lost';

export interface RegisteredWorker extends StoredHeartbeat {
  status: WorkerStatus;
}

/** What the API reads of the registry. */
export interface WorkerDirectory {
  /** Every known worker, by id. */
  list(): Promise<RegisteredWorker[]>;
}
