/**
 * Stream sessions of the Node runtime (docs/streams.md). Runs INSIDE the sandbox, imported by
 * node-bootstrap.sandbox.ts on the first stream_open only; node: builtins only, never host code.
 *
 * The module's `stream` export is called as stream(messages, send, context): `for await (const m of
 * messages)` yields each client message (a string for a text frame, a Buffer for a binary one) and ends
 * when the client goes away; `await send(x)` sends one (string → text frame, bytes → binary frame) and
 * waits while the flow-control window is full; `context.close(code, reason)` closes the connection.
 * `messages.send` and `messages.close` are the same functions.
 */

export interface StreamHost {
  /** Writes one protocol line (blocking until the pipe takes it). */
  send(line: string): void;
  /** Runs the handler as the execution `id` (logs, stray errors) and sends its result line. */
  run(id: string, call: (context: Record<string, unknown>) => unknown, context: { executionId?: string; deadline?: number; mode: 'stream'; request: unknown }): Promise<void>;
}

interface OpenMessage {
  type: 'stream_open';
  id: string;
  context?: { executionId?: string; deadline?: number; request?: unknown };
  window?: { messages?: number; bytes?: number };
  maxMessageBytes?: number;
}

type Message = string | Buffer;
type Waiter = (result: IteratorResult<Message>) => void;

/** Sizes of sent messages not yet credited back, oldest first. */
class InFlight {
  sizes: number[] = [];
  head = 0;
  bytes = 0;
  get count(): number {
    return this.sizes.length - this.head;
  }
  push(size: number): void {
    this.sizes.push(size);
    this.bytes += size;
  }
  shift(): void {
    if (this.head >= this.sizes.length) return;
    this.bytes -= this.sizes[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.sizes.length) {
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }
}

function toPayload(data: unknown): { payload: Message; binary: boolean } {
  if (typeof data === 'string') return { payload: data, binary: false };
  if (Buffer.isBuffer(data)) return { payload: data, binary: true };
  if (ArrayBuffer.isView(data)) return { payload: Buffer.from(data.buffer, data.byteOffset, data.byteLength), binary: true };
  if (data instanceof ArrayBuffer) return { payload: Buffer.from(data), binary: true };
  throw new TypeError(`stream.send() takes a string or bytes (Buffer, Uint8Array, ArrayBuffer), got ${data === null ? 'null' : typeof data}; use JSON.stringify for objects`);
}

/** The object a stream handler receives. */
class Stream implements AsyncIterable<Message> {
  readonly id: string;
  readonly #host: StreamHost;
  readonly #windowMessages: number;
  readonly #windowBytes: number;
  readonly maxMessageBytes: number;
  readonly #queue: Message[] = [];
  readonly #readers: Waiter[] = [];
  readonly #senders: Array<{ line: string; size: number; resolve: (sent: boolean) => void }> = [];
  readonly #inFlight = new InFlight();
  #drained: Array<() => void> = [];
  #outgoing: string[] = [];
  #batching = false;
  #consumed = 0;
  #consumedBytes = 0;
  #ended = false;
  #closed = false;

  constructor(message: OpenMessage, host: StreamHost) {
    this.id = message.id;
    this.#host = host;
    this.#windowMessages = Math.max(1, Number(message.window?.messages ?? 64));
    this.#windowBytes = Math.max(1, Number(message.window?.bytes ?? 1024 * 1024));
    this.maxMessageBytes = Math.max(1, Number(message.maxMessageBytes ?? 1024 * 1024));
  }

  /** True once the client went away, the function closed the stream, or the handler finished. */
  get closed(): boolean {
    return this.#ended || this.#closed;
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return { next: () => this.next(), return: async () => ({ done: true, value: undefined }) };
  }

  /** The next client message; `done` once the client went away and everything before was read. */
  next(): Promise<IteratorResult<Message>> {
    const message = this.#queue.shift();
    if (message !== undefined) return Promise.resolve(this.#consume(message));
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  /** Resolves true once the message is within the window (sent), false if the stream is closed. */
  readonly send = (data: unknown): Promise<boolean> => {
    const { payload, binary } = toPayload(data);
    if (this.closed) return Promise.resolve(false);
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (size > this.maxMessageBytes) return Promise.reject(new RangeError(`stream message of ${size} bytes is larger than the limit of ${this.maxMessageBytes}`));
    const line = binary
      ? `{"type":"stream_data","id":${JSON.stringify(this.id)},"binary":true,"data":"${(payload as Buffer).toString('base64')}"}\n`
      : `{"type":"stream_data","id":${JSON.stringify(this.id)},"data":${JSON.stringify(payload)}}\n`;
    if (this.#senders.length === 0 && this.#hasCredit()) {
      this.#write(line, size);
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#senders.push({ line, size, resolve }));
  };

  /** Closes the client connection (after what was sent) with a code (1000 or 3000-4999) and a reason. */
  readonly close = (code = 1000, reason = ''): void => {
    if (this.closed) return;
    const valid = code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999);
    if (!valid) throw new RangeError(`close code must be 1000 or 3000-4999, got ${code}`);
    this.#flushSenders();
    this.flush();
    this.#closed = true;
    this.#host.send(`${JSON.stringify({ type: 'stream_close', id: this.id, code, reason: Buffer.from(String(reason)).subarray(0, 123).toString('utf8').replace(/\uFFFD$/, '') })}\n`);
    this.#stop();
  };

  /** From the host: */
  receive(message: { type: string; data?: unknown; binary?: unknown; messages?: unknown }): void {
    if (message.type === 'stream_data') {
      const data = message.binary === true ? Buffer.from(String(message.data), 'base64') : String(message.data);
      const reader = this.#readers.shift();
      if (reader) reader(this.#consume(data));
      else this.#queue.push(data);
    } else if (message.type === 'stream_credit') {
      for (let n = Number(message.messages) || 0; n > 0; n--) this.#inFlight.shift();
      this.#flushSenders();
    } else if (message.type === 'stream_end') {
      this.#ended = true;
      this.#stop();
    }
  }

  /** Waits until every send() the handler did not await is within the window (or the stream closed). */
  drained(): Promise<void> {
    if (this.#senders.length === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** The handler finished: nothing more goes out. */
  finish(): void {
    this.#closed = true;
    this.#stop();
  }

  #consume(message: Message): IteratorResult<Message> {
    this.#consumed++;
    this.#consumedBytes += typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    if (this.#consumed * 4 >= this.#windowMessages || this.#consumedBytes * 4 >= this.#windowBytes) {
      this.#host.send(`{"type":"stream_ack","id":${JSON.stringify(this.id)},"messages":${this.#consumed}}\n`);
      this.#consumed = 0;
      this.#consumedBytes = 0;
    }
    return { done: false, value: message };
  }

  #hasCredit(): boolean {
    return this.#inFlight.count < this.#windowMessages && this.#inFlight.bytes < this.#windowBytes;
  }

  /**
   * The first message of an event-loop turn is written at once (latency); the rest of the turn's leave
   * together at its end (a write per message costs a third of the throughput).
   */
  #write(line: string, size: number): void {
    this.#inFlight.push(size);
    if (this.#batching) {
      this.#outgoing.push(line);
      return;
    }
    this.#host.send(line);
    this.#batching = true;
    setImmediate(() => {
      this.#batching = false;
      this.flush();
    });
  }

  /** Writes what send() queued; before a close, and before the session's result, so the order holds. */
  flush(): void {
    if (this.#outgoing.length === 0) return;
    const lines = this.#outgoing.join('');
    this.#outgoing = [];
    this.#host.send(lines);
  }

  #flushSenders(): void {
    while (this.#senders.length > 0 && this.#hasCredit()) {
      const next = this.#senders.shift()!;
      this.#write(next.line, next.size);
      next.resolve(true);
    }
    if (this.#senders.length === 0) for (const done of this.#drained.splice(0)) done();
  }

  /** Readers see the end once the queue is empty; unsent messages are dropped. */
  #stop(): void {
    if (this.#queue.length === 0) for (const reader of this.#readers.splice(0)) reader({ done: true, value: undefined });
    for (const sender of this.#senders.splice(0)) sender.resolve(false);
    for (const done of this.#drained.splice(0)) done();
  }
}

type StreamHandler = (messages: Stream, send: Stream['send'], context: Record<string, unknown>) => unknown;

function notFound(): Error {
  const err = new Error("The function's module has no `stream` export: export stream(messages, send, context) to serve WebSocket streams");
  err.name = 'StreamHandlerNotFoundError';
  err.stack = `${err.name}: ${err.message}`;
  return err;
}

/** `handler()` is the loaded module's `stream` export, null when it has none. */
export function createStreams(host: StreamHost, handler: () => StreamHandler | null) {
  const sessions = new Map<string, Stream>();

  async function open(message: OpenMessage): Promise<void> {
    const stream = new Stream(message, host);
    sessions.set(stream.id, stream);
    try {
      await host.run(stream.id, async (context) => {
        const fn = handler();
        if (fn === null) throw notFound();
        try {
          const value = await fn(stream, stream.send, Object.assign(context, { close: stream.close }));
          await stream.drained();
          return value;
        } finally {
          stream.flush();
        }
      }, { executionId: message.context?.executionId, deadline: message.context?.deadline, mode: 'stream', request: message.context?.request ?? null });
    } finally {
      stream.finish();
      sessions.delete(stream.id);
    }
  }

  return {
    dispatch(message: { type?: string; id: string }): void {
      if (message.type === 'stream_open') void open(message as OpenMessage);
      else sessions.get(message.id)?.receive(message as { type: string });
    },
  };
}
