import type { Logger } from 'pino';
import type { Consumer, Delivery, WorkQueue } from '../../core/ports/bus.ts';

interface Message {
  readonly id: string;
  readonly data: string;
  deliveries: number;
  /** Bumped on each delivery and settlement, so a stale Delivery's ack/nak/working does nothing. */
  token: number;
  timer: NodeJS.Timeout | undefined;
}

interface ConsumerState {
  readonly maxInFlight: number;
  readonly handler: (delivery: Delivery) => Promise<void>;
  inFlight: number;
  readonly running: Set<Promise<void>>;
}

function unrefTimer(ms: number, fn: () => void): NodeJS.Timeout {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return timer;
}

/** An in-process work queue with JetStream's semantics: dedup window, ack wait, nak delay, shared consumers. */
export class MemoryWorkQueue implements WorkQueue {
  ackWaitMs: number;
  readonly #name: string;
  readonly #dedupWindowMs: number;
  readonly #log: Pick<Logger, 'error'>;
  readonly #seen = new Map<string, number>();
  readonly #waiting: Message[] = [];
  readonly #unacked = new Set<Message>();
  readonly #consumers: ConsumerState[] = [];
  #turn = 0;
  #dispatchQueued = false;
  #closed = false;

  constructor(name: string, ackWaitMs: number, dedupWindowMs: number, log: Pick<Logger, 'error'>) {
    this.ackWaitMs = ackWaitMs;
    this.#dedupWindowMs = dedupWindowMs;
    this.#name = name;
    this.#log = log;
  }

  async add(id: string, data: string): Promise<void> {
    if (this.#closed) throw new Error('the bus is closed');
    const now = Date.now();
    for (const [seenId, at] of this.#seen) {
      if (now - at < this.#dedupWindowMs) break; // insertion order is time order
      this.#seen.delete(seenId);
    }
    if (this.#seen.has(id)) return;
    this.#seen.set(id, now);
    this.#waiting.push({ id, data, deliveries: 0, token: 0, timer: undefined });
    this.#schedule();
  }

  consume(options: { maxInFlight: number }, handler: (delivery: Delivery) => Promise<void>): Consumer {
    const state: ConsumerState = { maxInFlight: Math.max(1, options.maxInFlight), handler, inFlight: 0, running: new Set() };
    this.#consumers.push(state);
    this.#schedule();
    return {
      stop: async () => {
        const at = this.#consumers.indexOf(state);
        if (at >= 0) this.#consumers.splice(at, 1);
        await Promise.allSettled([...state.running]);
      },
    };
  }

  async depth(): Promise<{ pending: number; ackPending: number }> {
    return { pending: this.#waiting.length, ackPending: this.#unacked.size };
  }

  close(): void {
    this.#closed = true;
    this.#consumers.length = 0;
    for (const m of this.#unacked) clearTimeout(m.timer);
  }

  #schedule(): void {
    if (this.#dispatchQueued) return;
    this.#dispatchQueued = true;
    queueMicrotask(() => {
      this.#dispatchQueued = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#waiting.length > 0) {
      const free = this.#consumers.filter((c) => c.inFlight < c.maxInFlight);
      if (free.length === 0) return;
      const consumer = free[this.#turn++ % free.length]!;
      this.#deliver(this.#waiting.shift()!, consumer);
    }
  }

  #deliver(message: Message, consumer: ConsumerState): void {
    const token = ++message.token;
    const current = () => message.token === token && !this.#closed;
    this.#unacked.add(message);
    message.timer = unrefTimer(this.ackWaitMs, () => current() && this.#redeliver(message));
    const delivery: Delivery = {
      id: message.id,
      data: message.data,
      redeliveries: message.deliveries++,
      working: () => {
        if (!current()) return;
        clearTimeout(message.timer);
        message.timer = unrefTimer(this.ackWaitMs, () => current() && this.#redeliver(message));
      },
      ack: async () => {
        if (!current()) return;
        message.token++;
        clearTimeout(message.timer);
        this.#unacked.delete(message);
      },
      nak: (delayMs) => {
        if (!current()) return;
        const settled = ++message.token;
        clearTimeout(message.timer);
        // Like JetStream, a delayed message still counts as ackPending until it is delivered again.
        if (delayMs === undefined || delayMs <= 0) this.#redeliver(message);
        else message.timer = unrefTimer(delayMs, () => message.token === settled && !this.#closed && this.#redeliver(message));
      },
    };
    consumer.inFlight++;
    const run: Promise<void> = Promise.resolve()
      .then(() => consumer.handler(delivery))
      .catch((err: unknown) => this.#log.error({ err, workQueue: this.#name, id: message.id }, 'a work queue handler failed; its message is delivered again after ackWait'))
      .finally(() => {
        consumer.inFlight--;
        consumer.running.delete(run);
        this.#schedule();
      });
    consumer.running.add(run);
  }

  #redeliver(message: Message): void {
    message.token++;
    clearTimeout(message.timer);
    this.#unacked.delete(message);
    this.#waiting.unshift(message);
    this.#schedule();
  }
}
