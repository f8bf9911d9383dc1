import type { Logger } from 'pino';
import type { Bus, Subscription } from '../core/ports/bus.ts';

interface Subscriber {
  handler: (data: string) => void | Promise<void>;
  /** The previous message's handling: messages of one subscription are handled in order. */
  tail: Promise<void>;
}

/** The embedded mode's bus: subscribers in this process, called in publish order. */
export class MemoryBus implements Bus {
  readonly #subjects = new Map<string, Set<Subscriber>>();
  readonly #log: Pick<Logger, 'error'>;
  #closed = false;

  constructor(log: Pick<Logger, 'error'>) {
    this.#log = log;
  }

  async publish(subject: string, data: string): Promise<void> {
    if (this.#closed) return;
    const subscribers = [...(this.#subjects.get(subject) ?? [])];
    await Promise.all(subscribers.map((s) => (s.tail = s.tail.then(() => this.#deliver(subject, s, data)))));
  }

  subscribe(subject: string, handler: (data: string) => void | Promise<void>): Subscription {
    const subscriber: Subscriber = { handler, tail: Promise.resolve() };
    let set = this.#subjects.get(subject);
    if (set === undefined) this.#subjects.set(subject, (set = new Set()));
    set.add(subscriber);
    return { unsubscribe: () => void set.delete(subscriber) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pending = [...this.#subjects.values()].flatMap((set) => [...set].map((s) => s.tail));
    this.#subjects.clear();
    await Promise.allSettled(pending);
  }

  async #deliver(subject: string, subscriber: Subscriber, data: string): Promise<void> {
    if (this.#closed) return;
    try {
      await subscriber.handler(data);
    } catch (err) {
      this.#log.error({ err, subject }, 'a bus subscriber failed');
    }
  }
}
