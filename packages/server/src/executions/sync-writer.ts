import type { Logger } from 'pino';
import type { ExecutionRepository, ExecutionRow } from '../store/executions.ts';

/**
 * Finished sync executions are written in batches, one transaction per flush, so the invoke hot path
 * never waits on an fsync. Until written, reads are served from the buffer.
 *
 * Guarantee: a record whose 200 was sent is committed within `intervalMs` (or as soon as `maxBatch`
 * records are waiting), at a graceful stop, and — through `flushSync` at process exit — when the
 * process dies of an uncaught error. It is lost only if the process is killed outright (SIGKILL, the
 * OOM killer) or the machine stops within that window; see SyncRecordInserter for power cuts.
 */
export class SyncRecordWriter {
  readonly #repo: ExecutionRepository;
  readonly #log: Logger;
  readonly #pending = new Map<string, ExecutionRow>();
  readonly #maxBatch: number;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** Set while a write waits for the connection to leave a transaction. */
  #retry: Promise<void> | null = null;

  constructor(repo: ExecutionRepository, log: Logger, options: { maxBatch?: number; intervalMs?: number } = {}) {
    this.#repo = repo;
    this.#log = log;
    // A batch is written synchronously on the event loop (~5 µs a row): small, frequent batches keep
    // the pause each one causes short.
    this.#maxBatch = options.maxBatch ?? 500;
    this.#intervalMs = options.intervalMs ?? 50;
  }

  add(row: ExecutionRow): void {
    this.#pending.set(row.id, row);
    if (this.#pending.size >= this.#maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs);
  }

  pending(id: string): ExecutionRow | undefined {
    return this.#pending.get(id);
  }

  /** Writes every waiting record; resolves once they are committed (or failed and logged). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#retry !== null) return this.#retry;
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
   * Writes every waiting record now; false when the connection is busy in a transaction. `atExit` (the
   * process is ending): a transaction left open can never commit, so it is rolled back and the records written.
   */
  flushSync(atExit = false): boolean {
    if (this.#pending.size === 0) return true;
    const batch = [...this.#pending.values()];
    let report;
    try {
      report = this.#repo.tryInsertFinished(batch, atExit);
    } catch (err) {
      report = { written: 0, failed: batch.length, error: err instanceof Error ? err.message : String(err) };
    }
    if (report === null) return false;
    for (const row of batch) this.#pending.delete(row.id);
    if (report.failed > 0) this.#log.error({ count: report.failed, error: report.error }, 'writing execution records failed');
    return true;
  }
}
