import type { Logger } from 'pino';
import type { ExecutionStore, FinishedExecution, InsertReport } from '../core/ports/store.ts';

export interface SyncRecordWriterOptions {
  /** Records per transaction (each blocks the event loop ~5 µs a record). */
  maxBatch?: number;
  /** How long a record waits for its batch at most, while the database takes writes. */
  intervalMs?: number;
  /** Memory the records waiting may take (approximately); past it `overloaded` holds. */
  maxPendingBytes?: number;
  /** The longest pause between attempts while the database does not take the records. */
  maxRetryMs?: number;
}

/** A record's size beyond its texts (the object, its fields, the map entry). */
const RECORD_OVERHEAD_BYTES = 1024;
/** How long a stop waits for a database that does not take the records (the process must end within 8 s). */
const CLOSE_WAIT_MS = 2_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const deferAll = (batch: readonly FinishedExecution[], err: unknown): InsertReport => ({ written: 0, rejected: [], deferred: { ids: batch.map((e) => e.id), reason: err instanceof Error ? err.message : String(err) } });

/**
 * Finished sync executions are written in batches, one transaction per flush, so the invoke hot path
 * never waits on an fsync. Until written, reads are served from the buffer.
 *
 * Guarantee (docs/executions.md): a record whose 200 was sent is kept until it is written. While the
 * database does not take writes (another process holds its lock, the disk is full) the records wait
 * here and are retried with backoff; once they take more than `maxPendingBytes`, `overloaded` tells
 * the service to refuse new sync invocations (503) rather than buffer without bound. The only record
 * ever given up is one the database refuses outright (a constraint: its owner was deleted), logged
 * with its id. A stop waits CLOSE_WAIT_MS for them; a process dying of an uncaught error writes them
 * through `flushSync` at exit (SQLite). They are lost only if the process is killed outright (SIGKILL,
 * the OOM killer) or the machine stops before they are written; see SyncRecordInserter for power cuts.
 */
export class SyncRecordWriter {
  readonly #store: ExecutionStore;
  readonly #log: Logger;
  readonly #pending = new Map<string, FinishedExecution>();
  readonly #maxBatch: number;
  readonly #intervalMs: number;
  readonly #maxPendingBytes: number;
  readonly #maxRetryMs: number;
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The pass under way: one at a time. */
  #passing: Promise<void> | null = null;
  /** Set while the database defers the records: since when, and the pause before the next attempt. */
  #deferredSince: number | null = null;
  #retryMs = 0;

  constructor(store: ExecutionStore, log: Logger, options: SyncRecordWriterOptions = {}) {
    this.#store = store;
    this.#log = log;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#intervalMs = options.intervalMs ?? 50;
    this.#maxPendingBytes = options.maxPendingBytes ?? 64 * 1024 * 1024;
    this.#maxRetryMs = options.maxRetryMs ?? 1000;
  }

  add(execution: FinishedExecution): void {
    // Serialised now rather than at the flush (the same work, once): the size counts against the bound.
    execution.inputJson ??= JSON.stringify(execution.input ?? null);
    execution.resultJson ??= JSON.stringify(execution.result ?? null);
    this.#pending.set(execution.id, execution);
    this.#pendingBytes += sizeOf(execution);
    if (this.#deferredSince === null && this.#pending.size >= this.#maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#deferredSince === null ? this.#intervalMs : this.#retryMs);
  }

  pending(id: string): FinishedExecution | undefined {
    return this.#pending.get(id);
  }

  /** Every record not written yet, oldest first. */
  waiting(): IterableIterator<FinishedExecution> {
    return this.#pending.values();
  }

  /** The records waiting take more memory than they may: new sync invocations are to be refused. */
  get overloaded(): boolean {
    return this.#pendingBytes >= this.#maxPendingBytes;
  }

  /**
   * Writes the records waiting now, in batches (the event loop runs between them). Resolves once they
   * are written, or kept for a retry because the database does not take them now.
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#passing ??= this.#pass().finally(() => {
      this.#passing = null;
      if (this.#pending.size > 0) this.#timer ??= setTimeout(() => void this.flush(), this.#deferredSince === null ? this.#intervalMs : this.#retryMs);
    });
    return this.#passing;
  }

  /**
   * Writes every waiting record now; false when the connection is busy in a transaction, the database
   * defers them, or the store has no synchronous insert. `atExit` (the process is ending): a transaction
   * left open can never commit, so it is rolled back and the records written.
   */
  flushSync(atExit = false): boolean {
    if (this.#pending.size === 0) return true;
    const insertNow = this.#store.insertFinishedNow;
    if (insertNow === undefined) return false;
    const batch = [...this.#pending.values()];
    const report = this.#tryNow(insertNow, batch, atExit);
    if (report === null) return false;
    this.#apply(batch, report);
    if (atExit && report.deferred !== null) this.#reportLost(report.deferred.reason);
    return report.deferred === null;
  }

  /** At a stop: keeps trying for a moment, then says which records the database would not take. */
  async close(waitMs = CLOSE_WAIT_MS): Promise<void> {
    const deadline = Date.now() + waitMs;
    await this.flush();
    while (this.#pending.size > 0 && Date.now() < deadline) {
      await sleep(Math.min(this.#retryMs || this.#intervalMs, Math.max(1, deadline - Date.now())));
      await this.flush();
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size > 0) this.#reportLost('the database did not take them before the stop');
  }

  async #pass(): Promise<void> {
    let left = this.#pending.size;
    while (left > 0 && this.#pending.size > 0) {
      const batch: FinishedExecution[] = [];
      for (const e of this.#pending.values()) {
        if (batch.length === this.#maxBatch) break;
        batch.push(e);
      }
      const report = await this.#insert(batch);
      this.#apply(batch, report);
      if (report.deferred !== null) return;
      left -= batch.length;
      if (left > 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async #insert(batch: readonly FinishedExecution[]): Promise<InsertReport> {
    const insertNow = this.#store.insertFinishedNow;
    if (insertNow === undefined) return this.#store.insertFinished(batch).catch((err: unknown) => deferAll(batch, err));
    for (;;) {
      const report = this.#tryNow(insertNow, batch, false);
      if (report !== null) return report;
      // The connection is inside a transaction that awaits something: try again shortly.
      await sleep(1);
    }
  }

  #tryNow(insertNow: NonNullable<ExecutionStore['insertFinishedNow']>, batch: readonly FinishedExecution[], atExit: boolean): InsertReport | null {
    try {
      return insertNow(batch, atExit);
    } catch (err) {
      return deferAll(batch, err);
    }
  }

  #apply(batch: readonly FinishedExecution[], report: InsertReport): void {
    const kept = new Set(report.deferred?.ids ?? []);
    for (const e of batch) {
      if (kept.has(e.id) || this.#pending.get(e.id) !== e) continue;
      this.#pending.delete(e.id);
      this.#pendingBytes -= sizeOf(e);
    }
    if (report.rejected.length > 0) {
      this.#log.error({ ids: report.rejected.map((r) => r.id), error: report.rejected[0].error }, 'execution records given up: the database refuses them (a constraint: their owner was deleted)');
    }
    if (report.deferred === null) {
      if (this.#deferredSince !== null) this.#log.info({ afterMs: Date.now() - this.#deferredSince, waiting: this.#pending.size }, 'execution records are written again');
      this.#deferredSince = null;
      this.#retryMs = 0;
      return;
    }
    if (this.#deferredSince === null) {
      this.#deferredSince = Date.now();
      this.#log.warn({ waiting: this.#pending.size, reason: report.deferred.reason }, 'execution records cannot be written now: they are kept and retried');
    }
    this.#retryMs = Math.min(this.#maxRetryMs, Math.max(this.#intervalMs, this.#retryMs * 2));
  }

  #reportLost(reason: string): void {
    const ids = [...this.#pending.keys()];
    this.#log.error({ count: ids.length, ids: ids.slice(0, 100), reason }, 'execution records were never written: they are lost');
  }
}

/** Roughly what a waiting record holds in memory: its texts (also held parsed) and a fixed overhead. */
function sizeOf(e: FinishedExecution): number {
  return 2 * ((e.inputJson?.length ?? 0) + (e.resultJson?.length ?? 0)) + e.logs.length + (e.error?.message.length ?? 0) + (e.error?.stack?.length ?? 0) + RECORD_OVERHEAD_BYTES;
}
