import type { Logger } from 'pino';
import { newId } from '../core/ids.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Consumer, Delivery, WorkQueue } from '../core/ports/bus.ts';
import type { ExecutionStore } from '../core/ports/store.ts';
import { runLeased, type LeasedRunDeps } from '../executions/leased-run.ts';

/** How soon a delivery whose execution another holder has is looked at again (the reaper frees it if that holder died). */
const HELD_ELSEWHERE_RETRY_MS = 5_000;

/**
 * A worker's async executions in distributed mode: takes announcements from the work queue, at most
 * `maxInFlight` at once, and claims each execution's row before running it. The claim is fenced by a
 * token of this one claim (worker id + a nonce), so a run that lost its lease (this worker was paused,
 * the reaper gave the execution to another) can never write its late result. Retries are the
 * platform's: a failed attempt goes back to the queue in the store, and its delivery is nak'd with the
 * same delay; nothing depends on JetStream's own redelivery count.
 */
export class QueueConsumer {
  readonly #workerId: string;
  readonly #repo: ExecutionStore;
  readonly #deps: LeasedRunDeps;
  readonly #log: Logger;
  readonly #consumer: Consumer;
  #running = 0;

  constructor(deps: { workerId: string; queue: WorkQueue; maxInFlight: number; run: LeasedRunDeps; log: Logger }) {
    this.#workerId = deps.workerId;
    this.#repo = deps.run.repo;
    this.#deps = deps.run;
    this.#log = deps.log;
    this.#consumer = deps.queue.consume({ maxInFlight: deps.maxInFlight }, (delivery) => this.#handle(delivery));
  }

  /** Executions running now. */
  get running(): number {
    return this.#running;
  }

  /** No new deliveries; resolves once the executions running have ended (the drain of a scale-down). */
  stop(): Promise<void> {
    return this.#consumer.stop();
  }

  async #handle(delivery: Delivery): Promise<void> {
    const { executionId, ownerId } = JSON.parse(delivery.data) as PlatformEvents['executions.queued'];
    const holder = `${this.#workerId}.${newId().slice(0, 12)}`;
    const log = this.#log.child({ executionId });
    let claimed;
    try {
      claimed = await this.#repo.claim(executionId, holder, Date.now(), this.#deps.options.leaseMs);
    } catch (err) {
      log.warn({ err: String(err) }, 'claiming a queued execution failed; it will be delivered again');
      delivery.nak(1000);
      return;
    }
    if (claimed === undefined) return this.#notClaimed(delivery, ownerId, executionId);
    this.#running++;
    try {
      const end = await runLeased(claimed, holder, this.#deps, log.child({ attempt: claimed.attempts }), () => delivery.working());
      if (end.kind === 'requeued') delivery.nak(Math.max(0, end.availableAt - Date.now()));
      else await delivery.ack();
    } catch (err) {
      // The store failed while recording: the lease expires, the reaper puts it back, and this delivery comes again.
      log.error({ err }, 'recording the async result failed; the execution will be retried');
      delivery.nak(this.#deps.options.leaseMs);
    } finally {
      this.#running--;
    }
  }

  /** Another holder has it, it is not due yet, or it is over: look again later, or drop the delivery. */
  async #notClaimed(delivery: Delivery, ownerId: string, executionId: string): Promise<void> {
    const row = await this.#repo.get(ownerId, executionId).catch(() => undefined);
    if (row === undefined || (row.status !== 'queued' && row.status !== 'running')) return delivery.ack();
    delivery.nak(row.status === 'running' ? HELD_ELSEWHERE_RETRY_MS : 1000);
  }
}
