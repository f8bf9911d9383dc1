import type { Logger } from 'pino';
import type { ExecutionRepository, ExecutionRow } from '../store/executions.ts';

/**
 * Finished sync executions are written in batches, one transaction per flush, so the invoke hot path
 * never waits on an fsync. Until flushed, reads are served from the buffer.
 */
export class SyncRecordWriter {
  readonly #repo: ExecutionRepository;
  readonly #log: Logger;
  /** Not handed to the store yet. */
  readonly #pending = new Map<string, ExecutionRow>();
  /** Handed to the store, not confirmed yet: still served from here, never handed over twice. */
  readonly #writing = new Map<string, ExecutionRow>();
  readonly #maxBatch: number;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(repo: ExecutionRepository, log: Logger, options: { maxBatch?: number; intervalMs?: number } = {}) {
    this.#repo = repo;
    this.#log = log;
    this.#maxBatch = options.maxBatch ?? 2000;
    // The store writes a batch on a worker thread; larger batches amortise the hand-over and the commit.
    this.#intervalMs = options.intervalMs ?? 200;
  }

  add(row: ExecutionRow): void {
    this.#pending.set(row.id, row);
    if (this.#pending.size >= this.#maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs);
  }

  pending(id: string): ExecutionRow | undefined {
    return this.#pending.get(id) ?? this.#writing.get(id);
  }

  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return this.#flushing;
    const batch = [...this.#pending.values()];
    for (const row of batch) this.#writing.set(row.id, row);
    this.#pending.clear();
    this.#flushing = this.#flushing.then(async () => {
      try {
        await this.#repo.insertMany(batch);
      } catch (err) {
        this.#log.error({ err, count: batch.length }, 'writing execution records failed');
      } finally {
        for (const row of batch) this.#writing.delete(row.id);
      }
    });
    return this.#flushing;
  }
}
