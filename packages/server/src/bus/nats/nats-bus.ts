/**
 * Distributed mode's bus. publish/subscribe and request/serve are core NATS (serve with a queue group
 * when given one); work queues and key-value buckets are JetStream (work-queue.ts, key-value.ts).
 */
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { errors, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { BusRequestError, type BlobStore, type Bus, type KeyValue, type Subscription, type WorkQueue, type WorkQueueOptions } from '../../core/ports/bus.ts';
import { NatsBlobs } from './blobs.ts';
import { NatsKeyValue } from './key-value.ts';
import type { ServerFacts } from './server-guard.ts';
import { NatsWorkQueue } from './work-queue.ts';

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export class NatsBus implements Bus {
  readonly facts: ServerFacts;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #log: Log;
  readonly #stops = new Set<() => Promise<void>>();
  #closed = false;

  constructor(nc: NatsConnection, jsm: JetStreamManager, facts: ServerFacts, log: Log) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    this.facts = facts;
    this.#log = log;
  }

  /** The connected server's max_payload (it may differ after a reconnect to another server). */
  get maxPayload(): number {
    return this.#nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  async publish(subject: string, data: string): Promise<void> {
    if (this.#closed) return;
    this.#checkSize(subject, data);
    this.#nc.publish(subject, data);
  }

  subscribe(subject: string, handler: (data: string) => void | Promise<void>): Subscription {
    let tail = Promise.resolve();
    const sub = this.#nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) return void this.#log.error({ reason: err.message, subject }, 'a bus subscription failed');
        const data = msg.string();
        tail = tail.then(async () => {
          try {
            await handler(data);
          } catch (e) {
            this.#log.error({ err: e, subject }, 'a bus subscriber failed');
          }
        });
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async request(subject: string, data: string, options: { timeoutMs: number }): Promise<string> {
    if (this.#closed || this.#nc.isClosed()) throw new BusRequestError('closed', 'the bus is closed');
    this.#checkSize(subject, data);
    try {
      return (await this.#nc.request(subject, data, { timeout: options.timeoutMs })).string();
    } catch (err) {
      throw requestError(err, subject, options.timeoutMs);
    }
  }

  serve(subject: string, handler: (data: string) => Promise<string>, options: { queue?: string } = {}): Subscription {
    const sub = this.#nc.subscribe(subject, {
      ...(options.queue !== undefined ? { queue: options.queue } : {}),
      callback: (err, msg) => {
        if (err !== null) return void this.#log.error({ reason: err.message, subject }, 'a bus server\'s subscription failed');
        Promise.resolve()
          .then(() => handler(msg.string()))
          .then(
            (reply) => void msg.respond(reply),
            (e: unknown) => this.#log.error({ err: e, subject }, 'a bus server failed; the request gets no reply'),
          );
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  async workQueue(name: string, options: WorkQueueOptions): Promise<WorkQueue> {
    const queue = await NatsWorkQueue.open(this.#js, this.#jsm, name, options.ackWaitMs, this.#log);
    return {
      add: (id, data) => queue.add(id, data),
      depth: () => queue.depth(),
      consume: (opts, handler) => {
        const consumer = queue.consume(opts, handler);
        const stop = () => consumer.stop();
        this.#stops.add(stop);
        return { stop: () => (this.#stops.delete(stop), stop()) };
      },
    };
  }

  keyValue(bucket: string, options: { ttlMs: number }): Promise<KeyValue> {
    return NatsKeyValue.open(this.#js, this.#jsm, bucket, options.ttlMs);
  }

  blobs(bucket: string, options: { ttlMs?: number }): Promise<BlobStore> {
    return NatsBlobs.open(this.#js, bucket, options.ttlMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#stops].map((stop) => stop()));
    this.#stops.clear();
    await this.#nc.drain().catch(() => this.#nc.close());
  }

  #checkSize(subject: string, data: string): void {
    const size = Buffer.byteLength(data);
    if (size > this.maxPayload) throw new BusRequestError('too_large', `${size} bytes on ${subject} is over NATS's max_payload of ${this.maxPayload}`);
  }
}

function requestError(err: unknown, subject: string, timeoutMs: number): unknown {
  const chain = [err, (err as { cause?: unknown })?.cause];
  if (chain.some((e) => e instanceof errors.NoRespondersError) || (err instanceof errors.RequestError && err.isNoResponders())) {
    return new BusRequestError('no_responders', `nobody serves ${subject}`, { cause: err });
  }
  if (chain.some((e) => e instanceof errors.TimeoutError)) return new BusRequestError('timeout', `no reply on ${subject} within ${timeoutMs} ms`, { cause: err });
  if (chain.some((e) => e instanceof errors.ClosedConnectionError || e instanceof errors.DrainingConnectionError)) return new BusRequestError('closed', 'the bus is closed', { cause: err });
  return err;
}
