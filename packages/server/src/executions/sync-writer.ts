import type { Logger } from 'pino';
import type { ExecutionStore, FinishedExecution, InsertReport } from '../core/ports/store.ts';

/**
 * Finished sync executions are written in batches, one transaction per flush, so the invoke hot path
 * never waits on an fsync. Until written, reads are served from the buffer.
 *
 * Guarantee: a record whose 200 was sent is committed within `intervalMs` (or as soon as `maxBatch`
 * records are waiting), at a graceful stop, and — through `flushSync` at process exit, where the store
 * offers a synchronous insert (SQLite) — when the process dies of an uncaught error. It is lost only
 * if the process is killed outright (SIGKILL, the OOM killer) or the machine stops within that window;
 * see SyncRecordInserter for power cuts.
 */
export class SyncRecordWriter {
  readonly #store: ExecutionStore;
  readonly #log: Logger;
  readonly #pending = new Map<string, FinishedExecution>();
  readonly #maxBatch: number;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** Set while a write is under way (async store) or waits for the connection to leave a transaction. */
  #retry: Promise<void> | null = null;

  constructor(store: ExecutionStore, log: Logger, options: { maxBatch?: number; intervalMs?: number } = {}) {
    this.#store = store;
    this.#log = log;
    // A batch is written synchronously on the event loop (~5 µs a row): small, frequent batches keep
    // the pause each one causes short.
    this.#maxBatch = options.maxBatch ?? 500;
    this.#intervalMs = options.intervalMs ?? 50;
  }

  add(execution: FinishedExecution): void {
    this.#pending.set(execution.id, execution);
    if (this.#pending.size >= this.#maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs);
  }

  pending(id: string): FinishedExecution | undefined {
    return this.#pending.get(id);
  }

  /** Writes every waiting record; resolves once they are committed (or failed and logged). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#retry !== null) return this.#retry.then(() => (this.#pending.size > 0 ? this.flush() : undefined));
    if (this.#store.insertFinishedNow === undefined) return this.#flushAsync();
    if (this.flushSync()) return Promise.resolve();
    // The connection is inside a transaction that awaits something: try again shortly.
    this.#retry = new Promise<void>((resolve) => {
      const again = (): void => {
        if (this.flushSync()) {
          this.#retry = null;
          resolve();
        } else setTimeout(again, 1);
      };
      setTimeout(again, 1);
    });
    return this.#retry;
  }

  /**
   * Writes every waiting record now; false when the connection is busy in a transaction (or the store
   * has no synchronous insert). `atExit` (the process is ending): a transaction left open can never
   * commit, so it is rolled back and the records written.
   */
  flushSync(atExit = false): boolean {
    if (this.#pending.size === 0) return true;
    const insertNow = this.#store.insertFinishedNow;
    if (insertNow === undefined) return false;
    const batch = [...this.#pending.values()];
    let report: InsertReport | null;
    try {
      report = insertNow(batch, atExit);
    } catch (err) {
      report = { written: 0, failed: batch.length, error: err instanceof Error ? err.message : String(err) };
    }
    if (report === null) return false;
    this.#done(batch, report);
    return true;
  }

  #flushAsync(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    const batch = [...this.#pending.values()];
    this.#retry = this.#store.insertFinished(batch).then(
      (report) => this.#done(batch, report),
      (err: unknown) => this.#done(batch, { written: 0, failed: batch.length, error: err instanceof Error ? err.message : String(err) }),
    ).finally(() => {
      this.#retry = null;
    });
    return this.#retry;
  }

  #done(batch: FinishedExecution[], report: InsertReport): void {
    for (const e of batch) if (this.#pending.get(e.id) === e) this.#pending.delete(e.id);
    if (report.failed > 0) this.#log.error({ count: report.failed, error: report.error }, 'writing execution records failed');
  }
}
