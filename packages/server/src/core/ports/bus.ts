/**
 * How components in different roles (or processes) reach each other. The embedded mode's bus is
 * in-process (bus/memory-bus.ts); distributed mode's is NATS with JetStream (bus/nats/). Subjects and
 * payloads are listed in core/events.ts; payloads are text (JSON) so any bus can carry them. One
 * conformance suite (test/bus/bus.case.ts) holds every implementation to this contract.
 */
export interface Bus {
  /**
   * Delivers `data` to every subscriber of `subject`. Resolves once the bus has taken the message;
   * the in-process bus resolves after its subscribers' handlers have run (so a change is applied
   * locally before the API answers). Fire-and-forget: a subscriber that is away misses it.
   */
  publish(subject: string, data: string): Promise<void>;
  /** Handlers run one message at a time per subscription, in publish order; a handler that throws is logged, not retried. */
  subscribe(subject: string, handler: (data: string) => void | Promise<void>): Subscription;
  /**
   * Sends `data` to one server of `subject` and resolves with its reply. Rejects with BusRequestError:
   * `no_responders` at once when nobody serves the subject, `timeout` after `timeoutMs`,
   * `too_large` when `data` is over maxPayload, `closed` once the bus is closed.
   */
  request(subject: string, data: string, options: { timeoutMs: number }): Promise<string>;
  /**
   * Answers requests on `subject`. With `queue`, each request goes to one of the servers sharing that
   * queue name. Requests are handled concurrently; a handler that throws answers nothing (the caller
   * times out) and is logged.
   */
  serve(subject: string, handler: (data: string) => Promise<string>, options?: { queue?: string }): Subscription;
  /** The largest `data` publish or request carries (NATS: the server's max_payload); larger goes by reference. */
  readonly maxPayload: number;
  /** A durable work queue (JetStream: a work-queue stream and one shared pull consumer), created when first opened. */
  workQueue(name: string, options: WorkQueueOptions): Promise<WorkQueue>;
  /** A key-value bucket whose entries expire `ttlMs` after their last put (JetStream KV), created when first opened. */
  keyValue(bucket: string, options: { ttlMs: number }): Promise<KeyValue>;
  /**
   * A bucket of values larger than a message (JetStream's object store, chunked), created when first
   * opened: code bundles for workers on other machines, inputs and results over maxPayload.
   */
  blobs(bucket: string, options: { ttlMs?: number }): Promise<BlobStore>;
  /** Stops delivery to every subscription and consumer. */
  close(): Promise<void>;
}

export interface BlobStore {
  put(name: string, bytes: Uint8Array): Promise<void>;
  /** undefined when there is no such blob. */
  get(name: string): Promise<Uint8Array | undefined>;
  has(name: string): Promise<boolean>;
  delete(name: string): Promise<void>;
}

export interface Subscription {
  unsubscribe(): void;
}

export class BusRequestError extends Error {
  readonly kind: 'no_responders' | 'timeout' | 'too_large' | 'closed';
  constructor(kind: BusRequestError['kind'], message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.kind = kind;
  }
}

export interface WorkQueueOptions {
  /** A delivery not acked, nor kept alive with working(), within this is delivered again. */
  ackWaitMs: number;
}

export interface WorkQueue {
  /**
   * Stores a message durably; a second add with the same `id` within the bus's deduplication window
   * (JetStream: 2 minutes) is dropped. Resolves once stored.
   */
  add(id: string, data: string): Promise<void>;
  /**
   * Delivers messages to `handler`, at most `maxInFlight` handlers of this consumer running at once,
   * until stopped. A slot is free again when the handler returns, so it should ack or nak first; a
   * handler that throws is logged and its message is delivered again after ackWait.
   */
  consume(options: { maxInFlight: number }, handler: (delivery: Delivery) => Promise<void>): Consumer;
  /** Messages waiting (pending) and delivered but not acked yet (ackPending): what the autoscaler reads. */
  depth(): Promise<{ pending: number; ackPending: number }>;
}

export interface Delivery {
  readonly id: string;
  readonly data: string;
  /** Times delivered before this one (0 the first time). */
  readonly redeliveries: number;
  /** Resets the ack deadline: the work is still going. */
  working(): void;
  /** Done: not delivered again. */
  ack(): Promise<void>;
  /** Not done: delivered again after `delayMs` (at once without). */
  nak(delayMs?: number): void;
}

export interface Consumer {
  /** No new deliveries; resolves once the handlers running have returned. */
  stop(): Promise<void>;
}

export interface KeyValueEntry {
  key: string;
  value: string;
  /** Epoch ms of its last put. */
  updatedAt: number;
}

export interface KeyValue {
  put(key: string, value: string): Promise<void>;
  get(key: string): Promise<KeyValueEntry | undefined>;
  delete(key: string): Promise<void>;
  /** Every live entry (expired and deleted ones are not listed). */
  entries(): Promise<KeyValueEntry[]>;
}
