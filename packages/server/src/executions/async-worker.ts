import type { Logger } from 'pino';
import { newId, nowIso } from '../core/ids.ts';
import type { ExecutionStatus, FunctionRecord } from '../core/types.ts';
import type { InvocationResult } from '../core/invoker.ts';
import { NO_METRICS, type PlatformMetrics } from '../core/metrics.ts';

type RunFunction = (fn: FunctionRecord, event: unknown, context: { executionId: string; deadline: number }) => Promise<InvocationResult>;
import type { ExecutionRepository, ExecutionRow } from '../store/executions.ts';

/** Statuses after which an async execution is tried again (until maxAttempts). */
const RETRYABLE: ReadonlySet<ExecutionStatus> = new Set(['failed', 'timed_out', 'oom_killed', 'system_error']);

export interface AsyncWorkerOptions {
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  leaseGraceMs: number;
  pollMs: number;
  /** Embedded mode: this is the only worker, so every lease found at start belonged to a dead process. */
  soleWorker: boolean;
}

/**
 * Leases queued executions from the store and runs them. At-least-once: a lease that expires (the worker
 * died) puts the execution back in the queue; each attempt counts towards maxAttempts, then dead-letter.
 */
export class AsyncWorker {
  readonly id = `worker-${newId().slice(0, 8)}`;
  readonly #repo: ExecutionRepository;
  readonly #run: RunFunction;
  readonly #loadFunction: (row: ExecutionRow) => Promise<FunctionRecord | undefined>;
  readonly #log: Logger;
  readonly #metrics: PlatformMetrics;
  readonly #options: AsyncWorkerOptions;
  #running = 0;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(deps: {
    repo: ExecutionRepository;
    run: RunFunction;
    loadFunction: (row: ExecutionRow) => Promise<FunctionRecord | undefined>;
    log: Logger;
    options: AsyncWorkerOptions;
    metrics?: PlatformMetrics;
  }) {
    this.#repo = deps.repo;
    this.#run = deps.run;
    this.#loadFunction = deps.loadFunction;
    this.#log = deps.log.child({ worker: this.id });
    this.#options = deps.options;
    this.#metrics = deps.metrics ?? NO_METRICS;
  }

  start(): void {
    this.#loop ??= this.#work();
  }

  /** Something was queued: look now instead of at the next poll. */
  notify(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.notify();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #work(): Promise<void> {
    await this.#repo.reclaimExpired(Date.now(), this.#options.soleWorker).catch((err: unknown) => this.#log.error({ err }, 'reclaiming leases failed'));
    let lastReclaim = Date.now();
    while (!this.#stopped) {
      let leased: ExecutionRow[] = [];
      if (this.#running < this.#options.concurrency) {
        try {
          if (Date.now() - lastReclaim > 5_000) {
            lastReclaim = Date.now();
            await this.#repo.reclaimExpired(lastReclaim);
          }
          leased = await this.#repo.lease(this.id, Date.now(), this.#options.concurrency - this.#running, (row) => this.#leaseMs(row));
        } catch (err) {
          this.#log.error({ err }, 'leasing failed');
        }
      }
      if (leased.length > 0) {
        for (const row of leased) {
          const task: Promise<void> = this.#execute(row).finally(() => {
            this.#running--;
            this.#inFlight.delete(task);
            this.notify();
          });
          this.#running++;
          this.#inFlight.add(task);
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#options.pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #leaseMs(row: ExecutionRow): number {
    return row.timeout_ms + this.#options.leaseGraceMs;
  }

  async #execute(row: ExecutionRow): Promise<void> {
    const log = this.#log.child({ executionId: row.id, attempt: row.attempts });
    let outcome: InvocationResult;
    const startedAt = nowIso();
    try {
      const fn = await this.#loadFunction(row);
      if (fn === undefined) {
        outcome = { status: 'cancelled', result: null, error: { reason: 'function_deleted', message: 'The function was deleted before the execution ran' }, logs: '', logsTruncated: false, durationMs: 0, coldStart: false, instanceId: null };
      } else {
        outcome = await this.#run(fn, JSON.parse(row.input), { executionId: row.id, deadline: Date.now() + fn.timeoutMs });
      }
    } catch (err) {
      log.error({ err }, 'async invocation failed inside the platform');
      outcome = { status: 'system_error', result: null, error: { reason: 'platform_error', message: 'The platform failed to run the execution' }, logs: '', logsTruncated: false, durationMs: 0, coldStart: false, instanceId: null };
    }
    const retry = RETRYABLE.has(outcome.status) && row.attempts < row.max_attempts;
    try {
      if (retry) {
        const delay = Math.min(this.#options.retryMaxMs, this.#options.retryBaseMs * 2 ** (row.attempts - 1));
        const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
        await this.#repo.requeue(row.id, this.id, Date.now() + jittered, outcome.error, outcome.logs);
        log.info({ status: outcome.status, retryInMs: jittered }, 'async execution will be retried');
        return;
      }
      const exhausted = RETRYABLE.has(outcome.status) && row.max_attempts > 1;
      const status: ExecutionStatus = exhausted ? 'dead_lettered' : outcome.status;
      const error = exhausted && outcome.error !== null ? { ...outcome.error, reason: `${outcome.error.reason}; dead-lettered after ${row.attempts} attempts (last: ${outcome.status})` } : outcome.error;
      const ok = await this.#repo.finishLeased(row.id, this.id, { ...outcome, status, error, startedAt, finishedAt: nowIso() });
      if (!ok) log.warn('lease was lost before the execution finished; result dropped');
      else if (exhausted) this.#metrics.deadLettered({ functionId: row.function_id, functionName: row.function_name });
    } catch (err) {
      log.error({ err }, 'recording the async result failed; the lease will expire and the execution will be retried');
    }
  }
}
