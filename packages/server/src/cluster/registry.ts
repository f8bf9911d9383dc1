import type { HeartbeatStore, RegisteredWorker, StoredHeartbeat, WorkerDirectory, WorkerStatus } from '../core/ports/workers.ts';

/** Heartbeats missed before a worker counts as lost. */
export const MISSED_HEARTBEATS = 3;

/**
 * The workers the cluster knows, from their heartbeats. A worker silent for 3 of its intervals is
 * `lost`: out of placement, still listed until the store forgets it. The view is cached for a short
 * time (half an interval by default), so placement may read it per request.
 */
export class WorkerRegistry implements WorkerDirectory {
  readonly #store: HeartbeatStore;
  readonly #intervalMs: number;
  readonly #cacheMs: number;
  readonly #now: () => number;
  #cached: { at: number; workers: Promise<RegisteredWorker[]> } | undefined;

  constructor(deps: { store: HeartbeatStore; heartbeatIntervalMs: number; cacheMs?: number; now?: () => number }) {
    this.#store = deps.store;
    this.#intervalMs = deps.heartbeatIntervalMs;
    this.#cacheMs = deps.cacheMs ?? Math.floor(deps.heartbeatIntervalMs / 2);
    this.#now = deps.now ?? Date.now;
  }

  /** A heartbeat's status now: its own interval (or the registry's) decides when it is lost. */
  statusOf(hb: StoredHeartbeat, now = this.#now()): WorkerStatus {
    const interval = hb.intervalMs > 0 ? hb.intervalMs : this.#intervalMs;
    return now - hb.receivedAt > MISSED_HEARTBEATS * interval ? 'lost' : hb.state;
  }

  /** Every known worker by id, lost ones included. */
  list(): Promise<RegisteredWorker[]> {
    const now = this.#now();
    if (this.#cached !== undefined && now - this.#cached.at < this.#cacheMs) return this.#cached.workers;
    const workers = this.#store.all().then((all) => all.map((hb) => ({ ...hb, status: this.statusOf(hb, now) })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
    this.#cached = { at: now, workers };
    // A failed read is not cached: the next call tries again.
    workers.catch(() => {
      if (this.#cached?.workers === workers) this.#cached = undefined;
    });
    return workers;
  }

  /** The workers placement may choose: ready and heard from lately. */
  async ready(): Promise<RegisteredWorker[]> {
    return (await this.list()).filter((w) => w.status === 'ready');
  }

  /** Workers that run work now, ready or draining (not lost): what instances and load are read from. */
  async live(): Promise<RegisteredWorker[]> {
    return (await this.list()).filter((w) => w.status !== 'lost');
  }

  /** Forgets the cached view (after a worker was removed, or in tests). */
  invalidate(): void {
    this.#cached = undefined;
  }

  async remove(id: string): Promise<void> {
    await this.#store.remove(id);
    this.invalidate();
  }
}
