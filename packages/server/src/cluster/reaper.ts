import type { Logger } from 'pino';
import type { WorkQueue } from '../core/ports/bus.ts';
import type { Leadership } from '../core/ports/leadership.ts';
import type { ExecutionStore } from '../core/ports/store.ts';


/** A queued execution whose announcement is this much overdue is announced again (a message NATS lost). */
const OVERDUE_MS = 30_000;

/**
 * The one elected reaper: puts executions whose lease expired (their worker died or froze) back in the
 * queue — or dead-letters them when out of attempts — and announces every queued execution that has
 * been due for a while with no worker taking it, so one lost message delays an execution, never loses it.
 * The message id of a repeat announcement names the attempt, so JetStream's deduplication of the first
 * one does not drop it.
 */
export class Reaper {
  readonly #repo: ExecutionStore;
  readonly #queue: WorkQueue;
  readonly #leadership: Leadership;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  readonly #overdueMs: number;
  #busy: Promise<void> | undefined;
  /** Leases reclaimed and announcements repeated since start (tests, metrics). */
  readonly counts = { reclaimed: 0, announced: 0 };

  constructor(deps: { repo: ExecutionStore; queue: WorkQueue; leadership: Leadership; log: Logger; everyMs: number; overdueMs?: number }) {
    this.#repo = deps.repo;
    this.#queue = deps.queue;
    this.#leadership = deps.leadership;
    this.#log = deps.log;
    this.#overdueMs = deps.overdueMs ?? OVERDUE_MS;
    this.#timer = setInterval(() => {
      this.#busy ??= this.#sweep().finally(() => (this.#busy = undefined));
    }, deps.everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#busy;
  }

  async #sweep(): Promise<void> {
    if (!this.#leadership.leader) return;
    try {
      const now = Date.now();
      const reclaimed = await this.#repo.reclaimExpired(now);
      if (reclaimed > 0) this.#log.warn({ reclaimed }, 'leases of stopped workers reclaimed');
      this.counts.reclaimed += reclaimed;
      for (const e of await this.#repo.overdue(now - this.#overdueMs, 500)) {
        await this.#queue.add(`${e.id}.${e.attempts}.${Math.floor(now / this.#overdueMs)}`, JSON.stringify({ executionId: e.id, ownerId: e.ownerId }));
        this.counts.announced++;
      }
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'the reaper\'s sweep failed; trying again');
    }
  }
}
