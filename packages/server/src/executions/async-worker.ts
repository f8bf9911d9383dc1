import type { Logger } from 'pino';
import { newId, nowIso } from '../core/ids.ts';
import type { ExecutionStatus, FunctionRecord } from '../core/types.ts';
import { failure, isRejection, type InvocationResult, type Rejection } from '../core/invocation.ts';
import { NO_METRICS, type PlatformMetrics } from '../core/metrics.ts';
import { ownerCap, type AsyncWorkerOptions } from '../config/options.ts';
import { StoreUnavailableError, type ExecutionStore, type StoredExecution } from '../core/ports/store.ts';
import { shareSlots } from './owner-slots.ts';

type RunFunction = (fn: FunctionRecord, event: unknown, context: { executionId: string; deadline: number }) => Promise<InvocationResult | Rejection>;

/** The function version an execution was queued for; undefined once the function is gone. */
type LoadFunction = (execution: StoredExecution) => Promise<FunctionRecord | undefined>;

/** Statuses after which an async execution is tried again (until maxAttempts). */
const RETRYABLE: ReadonlySet<ExecutionStatus> = new Set(['failed', 'timed_out', 'oom_killed', 'system_error']);

export type { AsyncWorkerOptions };

/**
 * Leases queued executions from the store and runs them. At-least-once: a lease is renewed while its
 * execution runs, and one that expires (its worker died) puts the execution back in the queue; each
 * attempt counts towards maxAttempts, then dead-letter. A lease a live worker can still renew is never taken.
 * Free slots go round-robin to the owners with queued work, each owner within its share of the
 * concurrency, so one owner's backlog never holds up another's execution.
 */
export class AsyncWorker {
  readonly id = `worker-${newId().slice(0, 8)}`;
  readonly #repo: ExecutionStore;
  readonly #run: RunFunction;
  readonly #loadFunction: LoadFunction;
  readonly #log: Logger;
  readonly #metrics: PlatformMetrics;
  readonly #options: AsyncWorkerOptions;
  #running = 0;
  readonly #runningByOwner = new Map<string, number>();
  readonly #ownerCap: number;
  /** The owner given the last slot: among owners with as many running, the next slot goes to those after it. */
  #lastServed: string | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(deps: {
    repo: ExecutionStore;
    run: RunFunction;
    loadFunction: LoadFunction;
    log: Logger;
    options: AsyncWorkerOptions;
    metrics?: PlatformMetrics;
  }) {
    this.#repo = deps.repo;
    this.#run = deps.run;
    this.#loadFunction = deps.loadFunction;
    this.#log = deps.log.child({ worker: this.id });
    this.#options = deps.options;
    this.#ownerCap = ownerCap(deps.options.concurrency, deps.options.ownerShare);
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

  /** Executions being run now. */
  get running(): number {
    return this.#running;
  }

  async #work(): Promise<void> {
    await this.#repo.reclaimExpired(Date.now(), this.#options.reclaimAllAtStart).catch((err: unknown) => this.#log.error({ err }, 'reclaiming leases failed'));
    let lastReclaim = Date.now();
    let storeDown = false;
    while (!this.#stopped) {
      let leased: StoredExecution[] = [];
      if (this.#running < this.#options.concurrency) {
        try {
          if (Date.now() - lastReclaim > 5_000) {
            lastReclaim = Date.now();
            await this.#repo.reclaimExpired(lastReclaim);
          }
          leased = await this.#leaseFairly();
          storeDown = false;
        } catch (err) {
          // A database that cannot take writes (locked by another process, disk full) is said once, not at every poll.
          if (!(err instanceof StoreUnavailableError)) this.#log.error({ err }, 'leasing failed');
          else if (!storeDown) this.#log.warn({ reason: err.message }, 'leasing paused until the database takes writes again');
          storeDown ||= err instanceof StoreUnavailableError;
        }
      }
      if (leased.length > 0) {
        for (const execution of leased) {
          const owner = execution.ownerId;
          const task: Promise<void> = this.#execute(execution).finally(() => {
            this.#running--;
            const left = (this.#runningByOwner.get(owner) ?? 1) - 1;
            if (left === 0) this.#runningByOwner.delete(owner);
            else this.#runningByOwner.set(owner, left);
            this.#inFlight.delete(task);
            this.notify();
          });
          this.#running++;
          this.#runningByOwner.set(owner, (this.#runningByOwner.get(owner) ?? 0) + 1);
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

  /** Leases for the free slots, shared among the owners with queued work (shareSlots); an owner with nothing available now gives its slots back to the others. */
  async #leaseFairly(): Promise<StoredExecution[]> {
    const owners = new Set(await this.#repo.queuedOwners());
    const leased: StoredExecution[] = [];
    const running = (owner: string): number => (this.#runningByOwner.get(owner) ?? 0) + leased.filter((e) => e.ownerId === owner).length;
    for (;;) {
      const plan = shareSlots([...owners], running, this.#options.concurrency - this.#running - leased.length, this.#ownerCap, this.#lastServed);
      if (plan.size === 0) return leased;
      for (const [owner, slots] of plan) {
        const got = await this.#repo.lease(this.id, Date.now(), slots, this.#options.leaseMs, owner);
        leased.push(...got);
        if (got.length > 0) this.#lastServed = owner;
        if (got.length < slots) owners.delete(owner);
      }
    }
  }

  /** Keeps the lease of a running execution alive; stops once the execution ends or the lease was lost. */
  #renewWhileRunning(execution: StoredExecution, log: Logger): () => void {
    const every = Math.max(50, Math.floor(this.#options.leaseMs / 3));
    const timer = setInterval(() => {
      void this.#repo.renew(execution.id, this.id, Date.now() + this.#options.leaseMs).then(
        (held) => {
          if (!held) {
            clearInterval(timer);
            log.warn('the lease of a running execution was lost');
          }
        },
        (err: unknown) => log.warn({ err }, 'renewing a lease failed; trying again'),
      );
    }, every);
    timer.unref();
    return () => clearInterval(timer);
  }

  async #execute(execution: StoredExecution): Promise<void> {
    const { id, attempts, maxAttempts } = execution;
    const log = this.#log.child({ executionId: id, attempt: attempts });
    let outcome: InvocationResult;
    const startedAt = nowIso();
    const stopRenewing = this.#renewWhileRunning(execution, log);
    try {
      const fn = await this.#loadFunction(execution);
      if (fn === undefined) {
        outcome = failure('function_deleted', 'The function was deleted before the execution ran');
      } else {
        const ran = await this.#run(fn, execution.input, { executionId: id, deadline: Date.now() + fn.timeoutMs });
        // Refused for capacity: back to the queue for a moment; the attempt does not count against it.
        if (isRejection(ran)) return await this.#postpone(id, ran, log);
        outcome = ran;
      }
    } catch (err) {
      log.error({ err }, 'async invocation failed inside the platform');
      outcome = failure('platform_error', 'The platform failed to run the execution');
    } finally {
      stopRenewing();
    }
    const retry = RETRYABLE.has(outcome.status) && attempts < maxAttempts;
    try {
      if (retry) {
        const delay = Math.min(this.#options.retryMaxMs, this.#options.retryBaseMs * 2 ** (attempts - 1));
        const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
        await this.#repo.requeue(id, this.id, Date.now() + jittered, { error: outcome.error, logs: outcome.logs });
        log.info({ status: outcome.status, retryInMs: jittered }, 'async execution will be retried');
        return;
      }
      const exhausted = RETRYABLE.has(outcome.status) && maxAttempts > 1;
      const status: ExecutionStatus = exhausted ? 'dead_lettered' : outcome.status;
      const error = exhausted && outcome.error !== null ? { ...outcome.error, message: `${outcome.error.message} (dead-lettered after ${attempts} attempts; the last ended ${outcome.status})` } : outcome.error;
      const ok = await this.#repo.finish(id, this.id, { ...outcome, workerId: outcome.workerId ?? null, status, error, startedAt, finishedAt: nowIso() });
      if (!ok) log.warn('lease was lost before the execution finished; result dropped');
      else if (exhausted) this.#metrics.deadLettered({ functionId: execution.functionId, functionName: execution.functionName });
    } catch (err) {
      log.error({ err }, 'recording the async result failed; the lease will expire and the execution will be retried');
    }
  }

  async #postpone(id: string, refused: Rejection, log: Logger): Promise<void> {
    try {
      await this.#repo.requeue(id, this.id, Date.now() + refused.retryAfterMs, null);
      log.info({ rejected: refused.rejected, retryInMs: refused.retryAfterMs }, 'async execution postponed: no capacity');
    } catch (err) {
      log.error({ err }, 'postponing the async execution failed; the lease will expire and it will be retried');
    }
  }
}
