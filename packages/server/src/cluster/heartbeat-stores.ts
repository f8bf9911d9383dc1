import type { HeartbeatStore, StoredHeartbeat, WorkerHeartbeat } from '../core/ports/workers.ts';

/**
 * The embedded mode's store (and the tests'): one process, one map. `ttlMs` plays the bucket's TTL:
 * an entry not put again for that long is forgotten.
 */
export class MemoryHeartbeatStore implements HeartbeatStore {
  readonly #entries = new Map<string, StoredHeartbeat>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? Number.POSITIVE_INFINITY;
    this.#now = options.now ?? Date.now;
  }

  async put(heartbeat: WorkerHeartbeat): Promise<void> {
    // A copy through JSON, as a bus would carry it: the publisher's later changes are not seen.
    this.#entries.set(heartbeat.id, { ...(JSON.parse(JSON.stringify(heartbeat)) as WorkerHeartbeat), receivedAt: this.#now() });
  }

  async all(): Promise<StoredHeartbeat[]> {
    const now = this.#now();
    for (const [id, hb] of this.#entries) if (now - hb.receivedAt > this.#ttlMs) this.#entries.delete(id);
    return [...this.#entries.values()];
  }

  async remove(id: string): Promise<void> {
    this.#entries.delete(id);
  }
}

/**
 * The key-value bucket on the bus as far as heartbeats need it (the Bus port's KeyValue has this shape;
 * declared here so this adapter needs nothing else). `updatedAt`: when the entry was last put.
 */
export interface HeartbeatKeyValue {
  put(key: string, value: string): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  entries(): Promise<Array<{ key: string; value: string; updatedAt: number | Date | string }>>;
}

const KEY_PREFIX = 'worker.';

function epochMs(at: number | Date | string): number {
  if (typeof at === 'number') return at;
  return at instanceof Date ? at.getTime() : Date.parse(at);
}

/** A value that is not a heartbeat (another writer's key, a damaged entry) is skipped, not thrown. */
function parseHeartbeat(text: string): WorkerHeartbeat | undefined {
  try {
    const hb = JSON.parse(text) as Partial<WorkerHeartbeat> | null;
    if (hb === null || typeof hb !== 'object' || typeof hb.id !== 'string' || typeof hb.sentAt !== 'number' || !Array.isArray(hb.instances) || hb.load === undefined) return undefined;
    return hb as WorkerHeartbeat;
  } catch {
    return undefined;
  }
}

/** Heartbeats in a TTL'd key-value bucket, one key per worker (`worker.<WORKER_ID>`), JSON values. */
export class KeyValueHeartbeatStore implements HeartbeatStore {
  readonly #kv: HeartbeatKeyValue;

  constructor(kv: HeartbeatKeyValue) {
    this.#kv = kv;
  }

  async put(heartbeat: WorkerHeartbeat): Promise<void> {
    await this.#kv.put(KEY_PREFIX + heartbeat.id, JSON.stringify(heartbeat));
  }

  async all(): Promise<StoredHeartbeat[]> {
    const out: StoredHeartbeat[] = [];
    for (const entry of await this.#kv.entries()) {
      if (!entry.key.startsWith(KEY_PREFIX)) continue;
      const hb = parseHeartbeat(entry.value);
      const receivedAt = epochMs(entry.updatedAt);
      if (hb !== undefined && Number.isFinite(receivedAt)) out.push({ ...hb, receivedAt });
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    await this.#kv.delete(KEY_PREFIX + id);
  }
}
