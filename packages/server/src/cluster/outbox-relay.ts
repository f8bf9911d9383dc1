import type { Logger } from 'pino';
import type { WorkQueue } from '../core/ports/bus.ts';
import type { ExecutionStore } from '../core/ports/store.ts';
import type { PlatformEvents } from '../core/events.ts';

const BATCH = 200;

/**
 * Moves outbox rows (written in the transaction that accepted an execution) onto the work queue, then
 * deletes them. The execution id is the message id, so a row published twice (a relay that died between
 * publishing and deleting, two control processes relaying at once) is stored once by JetStream.
 */
export class OutboxRelay {
  readonly #repo: ExecutionStore;
  readonly #queue: WorkQueue;
  readonly #log: Logger;
  readonly #pollMs: number;
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #failing = false;
  /** Messages relayed since start (tests, metrics). */
  relayed = 0;

  constructor(deps: { repo: ExecutionStore; queue: WorkQueue; log: Logger; pollMs: number }) {
    this.#repo = deps.repo;
    this.#queue = deps.queue;
    this.#log = deps.log;
    this.#pollMs = deps.pollMs;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Something was written to the outbox: relay now rather than at the next poll. */
  notify(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.notify();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let moved = 0;
      try {
        moved = await this.#relayBatch();
        if (this.#failing) this.#log.info('relaying queued executions again');
        this.#failing = false;
      } catch (err) {
        // NATS or the database away: the rows stay and are relayed once both answer.
        if (!this.#failing) this.#log.warn({ err: String(err) }, 'relaying queued executions to the work queue failed; retrying');
        this.#failing = true;
      }
      if (moved === BATCH) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#failing ? Math.max(this.#pollMs, 1000) : this.#pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #relayBatch(): Promise<number> {
    const rows = await this.#repo.takeOutbox(BATCH);
    if (rows.length === 0) return 0;
    const done: number[] = [];
    try {
      for (const row of rows) {
        const { executionId } = JSON.parse(row.payload) as PlatformEvents['executions.queued'];
        await this.#queue.add(executionId, row.payload);
        done.push(row.id);
      }
    } finally {
      await this.#repo.deleteOutbox(done);
      this.relayed += done.length;
    }
    return rows.length;
  }
}
