/**
 * A work queue on JetStream: stream SKY_WQ_<name> (retention workqueue, file storage, 2 min duplicate
 * window) on subject sky.wq.<name>, and one durable pull consumer `workers` every process shares.
 * consume() is a fetch loop that asks for no more messages than it has free slots, so JetStream's
 * ackPending matches the work really running and nothing waits in a client buffer with its ack timer on.
 */
import { AckPolicy, DiscardPolicy, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Consumer, Delivery, WorkQueue } from '../../core/ports/bus.ts';

const CONSUMER = 'workers';
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const DUPLICATE_WINDOW_MS = 120_000;
/** Above any worker fleet's slots: the real bound is each consumer's maxInFlight. 2.9's default of 1000 stalls silently. */
const MAX_ACK_PENDING = 100_000;
/** The shortest pull the client allows; a pull waits this long for messages, then the loop asks again. */
const PULL_EXPIRES_MS = 1000;

type Log = Pick<Logger, 'warn' | 'error'>;

export class NatsWorkQueue implements WorkQueue {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #subject: string;
  readonly #log: Log;

  private constructor(js: JetStreamClient, jsm: JetStreamManager, name: string, log: Log) {
    this.#js = js;
    this.#jsm = jsm;
    this.#stream = `SKY_WQ_${name}`;
    this.#subject = `sky.wq.${name}`;
    this.#log = log;
  }

  static async open(js: JetStreamClient, jsm: JetStreamManager, name: string, ackWaitMs: number, log: Log): Promise<NatsWorkQueue> {
    if (!NAME.test(name)) throw new Error(`a work queue's name is 1 to 64 letters, digits, "_" or "-", got "${name}"`);
    const queue = new NatsWorkQueue(js, jsm, name, log);
    await queue.#ensure(ackWaitMs);
    return queue;
  }

  async #ensure(ackWaitMs: number): Promise<void> {
    const stream = this.#stream;
    const exists = await this.#jsm.streams.info(stream).then(() => true, () => false);
    if (!exists) {
      await this.#jsm.streams.add({
        name: stream,
        subjects: [this.#subject],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        discard: DiscardPolicy.New,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      }).catch(async (err: unknown) => {
        // Another process created it between our info and add.
        if (!(await this.#jsm.streams.info(stream).then(() => true, () => false))) throw err;
      });
    }
    const current = await this.#jsm.consumers.info(stream, CONSUMER).catch(() => undefined);
    // On 2.9 adding an existing durable updates it, so only add when something differs.
    if (current?.config.ack_wait === nanos(ackWaitMs) && current.config.max_ack_pending === MAX_ACK_PENDING) return;
    await this.#jsm.consumers.add(stream, {
      durable_name: CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_deliver: -1,
      max_ack_pending: MAX_ACK_PENDING,
    });
  }

  async add(id: string, data: string): Promise<void> {
    await this.#js.publish(this.#subject, data, { msgID: id, timeout: 10_000 });
  }

  async depth(): Promise<{ pending: number; ackPending: number }> {
    const info = await this.#jsm.consumers.info(this.#stream, CONSUMER);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  }

  consume(options: { maxInFlight: number }, handler: (delivery: Delivery) => Promise<void>): Consumer {
    const max = Math.max(1, options.maxInFlight);
    const running = new Set<Promise<void>>();
    let stopped = false;
    let batch: ConsumerMessages | undefined;
    let wake: (() => void) | undefined;
    const slotFreed = () => {
      wake?.();
      wake = undefined;
    };

    const dispatch = (m: JsMsg) => {
      const run: Promise<void> = Promise.resolve()
        .then(() => handler(toDelivery(m)))
        .catch((err: unknown) => this.#log.error({ err, workQueue: this.#stream }, 'a work queue handler failed; its message is delivered again after ackWait'))
        .finally(() => {
          running.delete(run);
          slotFreed();
        });
      running.add(run);
    };

    const loop = (async () => {
      let failures = 0;
      while (!stopped) {
        if (running.size >= max) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        try {
          const consumer = await this.#js.consumers.get(this.#stream, CONSUMER);
          batch = await consumer.fetch({ max_messages: max - running.size, expires: PULL_EXPIRES_MS });
          for await (const m of batch) {
            if (stopped) m.nak();
            else dispatch(m);
          }
          failures = 0;
        } catch (err) {
          if (stopped) break;
          const waitMs = Math.min(250 * 2 ** failures++, 5000);
          this.#log.warn({ reason: (err as Error).message, workQueue: this.#stream }, `could not pull from the work queue; retrying in ${waitMs} ms`);
          await new Promise((r) => setTimeout(r, waitMs));
        } finally {
          batch = undefined;
        }
      }
    })();

    return {
      stop: async () => {
        stopped = true;
        batch?.stop();
        slotFreed();
        await loop;
        await Promise.allSettled([...running]);
      },
    };
  }
}

function toDelivery(m: JsMsg): Delivery {
  // Once the connection is closed acks cannot be sent; the message is delivered again after ackWait.
  const quietly = (send: () => void) => {
    try {
      send();
    } catch {
      // closed
    }
  };
  return {
    id: m.headers?.get('Nats-Msg-Id') ?? String(m.seq),
    data: m.string(),
    redeliveries: m.info.deliveryCount - 1,
    working: () => quietly(() => m.working()),
    ack: async () => {
      if (!(await m.ackAck())) throw new Error('the ack was not confirmed by NATS');
    },
    nak: (delayMs) => quietly(() => m.nak(delayMs)),
  };
}
