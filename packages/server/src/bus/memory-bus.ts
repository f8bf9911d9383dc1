import type { Logger } from 'pino';
import { BusRequestError, type BlobStore, type Bus, type KeyValue, type Subscription, type WorkQueue, type WorkQueueOptions } from '../core/ports/bus.ts';
import { MemoryBlobs } from './memory/blobs.ts';
import { MemoryKeyValue } from './memory/key-value.ts';
import { MemoryRequests } from './memory/request.ts';
import { MemoryWorkQueue } from './memory/work-queue.ts';

interface Subscriber {
  handler: (data: string) => void | Promise<void>;
  /** The previous message's handling: messages of one subscription are handled in order. */
  tail: Promise<void>;
}

export interface MemoryBusOptions {
  /** NATS's default max_payload, so code that sends large data by reference is exercised in embedded mode too. */
  maxPayload?: number;
  /** JetStream's default duplicate_window. */
  dedupWindowMs?: number;
}

/** The embedded mode's bus: subscribers, servers, work queues and buckets in this process. */
export class MemoryBus implements Bus {
  readonly maxPayload: number;
  readonly #subjects = new Map<string, Set<Subscriber>>();
  readonly #requests: MemoryRequests;
  readonly #queues = new Map<string, MemoryWorkQueue>();
  readonly #blobBuckets = new Map<string, MemoryBlobs>();
  readonly #buckets = new Map<string, MemoryKeyValue>();
  readonly #dedupWindowMs: number;
  readonly #log: Pick<Logger, 'error'>;
  #closed = false;

  constructor(log: Pick<Logger, 'error'>, options: MemoryBusOptions = {}) {
    this.#log = log;
    this.maxPayload = options.maxPayload ?? 1024 * 1024;
    this.#dedupWindowMs = options.dedupWindowMs ?? 120_000;
    this.#requests = new MemoryRequests(log);
  }

  async publish(subject: string, data: string): Promise<void> {
    if (this.#closed) return;
    this.#checkSize(subject, data);
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

  async request(subject: string, data: string, options: { timeoutMs: number }): Promise<string> {
    if (this.#closed) throw new BusRequestError('closed', 'the bus is closed');
    this.#checkSize(subject, data);
    return this.#requests.request(subject, data, options.timeoutMs);
  }

  serve(subject: string, handler: (data: string) => Promise<string>, options: { queue?: string } = {}): Subscription {
    return this.#requests.serve(subject, handler, options.queue);
  }

  async workQueue(name: string, options: WorkQueueOptions): Promise<WorkQueue> {
    if (this.#closed) throw new Error('the bus is closed');
    let queue = this.#queues.get(name);
    if (queue === undefined) this.#queues.set(name, (queue = new MemoryWorkQueue(name, options.ackWaitMs, this.#dedupWindowMs, this.#log)));
    queue.ackWaitMs = options.ackWaitMs;
    return queue;
  }

  async blobs(bucket: string, options: { ttlMs?: number }): Promise<BlobStore> {
    if (this.#closed) throw new Error('the bus is closed');
    let blobs = this.#blobBuckets.get(bucket);
    if (blobs === undefined) this.#blobBuckets.set(bucket, (blobs = new MemoryBlobs(options.ttlMs)));
    return blobs;
  }

  async keyValue(bucket: string, options: { ttlMs: number }): Promise<KeyValue> {
    if (this.#closed) throw new Error('the bus is closed');
    let kv = this.#buckets.get(bucket);
    if (kv === undefined) this.#buckets.set(bucket, (kv = new MemoryKeyValue(options.ttlMs)));
    return kv;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#requests.close();
    for (const queue of this.#queues.values()) queue.close();
    const pending = [...this.#subjects.values()].flatMap((set) => [...set].map((s) => s.tail));
    this.#subjects.clear();
    await Promise.allSettled(pending);
  }

  #checkSize(subject: string, data: string): void {
    const size = Buffer.byteLength(data);
    if (size > this.maxPayload) throw new BusRequestError('too_large', `${size} bytes on ${subject} is over the bus's max payload of ${this.maxPayload}`);
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
