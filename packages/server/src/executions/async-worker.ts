import type { Logger } from 'pino';
import { newId } from '../core/ids.ts';
import { NO_METRICS, type PlatformMetrics } from '../core/metrics.ts';
import { ownerCap, type AsyncWorkerOptions } from '../config/options.ts';
import { StoreUnavailableError, type ExecutionStore, type StoredExecution } from '../core/ports/store.ts';
import { shareSlots } from './owner-slots.ts';
import { runLeased, type LoadFunction, type RunFunction } from './leased-run.ts';


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

  async #execute(execution: StoredExecution): Promise<void> {
    const log = this.#log.child({ executionId: execution.id, attempt: execution.attempts });
    try {
      await runLeased(execution, this.id, { repo: this.#repo, run: this.#run, loadFunction: this.#loadFunction, metrics: this.#metrics, options: this.#options }, log);
    } catch (err) {
      log.error({ err }, 'recording the async result failed; the lease will expire and the execution will be retried');
    }
  }
}
