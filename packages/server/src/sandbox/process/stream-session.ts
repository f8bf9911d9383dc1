import { STREAM_DEFAULTS, type InvokeOutcome, type StreamMessage, type StreamRequest, type StreamSession } from '../driver.ts';
import { encodeMessage, type SandboxMessage } from '../protocol.ts';

/** What a session needs from its instance: a way to write protocol lines, and to kill it for cheating. */
export interface StreamPort {
  send(line: string): void;
  violate(reason: string): void;
}

/** Sizes of messages in flight, released in order (acknowledgements carry only a count). */
class SizeQueue {
  #sizes: number[] = [];
  #head = 0;
  bytes = 0;

  get count(): number {
    return this.#sizes.length - this.#head;
  }

  push(size: number): void {
    this.#sizes.push(size);
    this.bytes += size;
  }

  shift(): number {
    const size = this.#sizes[this.#head++] ?? 0;
    this.bytes -= size;
    if (this.#head > 1024 && this.#head * 2 > this.#sizes.length) {
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    return size;
  }

  clear(): void {
    this.#sizes = [];
    this.#head = 0;
    this.bytes = 0;
  }
}

type Incoming = Extract<SandboxMessage, { type: 'stream_data' | 'stream_ack' | 'stream_close' }>;

/**
 * The host's half of one stream session (protocol.ts has the rules). Host → function: messages beyond
 * the function's window wait in `#queue`, and write() says so, so the caller stops reading its client.
 * Function → host: a message is held until the caller releases it (wrote it out); credits go back in
 * batches of a quarter window. A runtime that sends beyond its window is killed, so what the host holds
 * for a session is bounded by the window whatever the code inside does.
 */
export class ProcessStreamSession implements StreamSession {
  readonly id: string;
  readonly outcome: Promise<InvokeOutcome>;
  readonly #request: StreamRequest;
  readonly #port: StreamPort;
  readonly #windowMessages: number;
  readonly #windowBytes: number;
  readonly #maxMessageBytes: number;
  #queue: Array<{ line: string; bytes: number }> = [];
  #queuedBytes = 0;
  readonly #sent = new SizeQueue();
  readonly #held = new SizeQueue();
  #releasedMessages = 0;
  #releasedBytes = 0;
  #blocked = false;
  #ended = false;
  #finished = false;

  /** `start` sends the stream_open line and answers the session's outcome. */
  constructor(id: string, request: StreamRequest, port: StreamPort, start: (openLine: string) => Promise<InvokeOutcome>) {
    this.id = id;
    this.#request = request;
    this.#port = port;
    this.#windowMessages = request.window?.messages ?? STREAM_DEFAULTS.windowMessages;
    this.#windowBytes = request.window?.bytes ?? STREAM_DEFAULTS.windowBytes;
    this.#maxMessageBytes = request.maxMessageBytes ?? STREAM_DEFAULTS.maxMessageBytes;
    // The runtime's window towards the host is the same size as the host's towards it.
    const open = encodeMessage({
      type: 'stream_open',
      id,
      context: { executionId: request.executionId, deadline: request.deadlineMs, request: request.request },
      window: { messages: this.#windowMessages, bytes: this.#windowBytes },
      maxMessageBytes: this.#maxMessageBytes,
    });
    this.outcome = start(open).finally(() => this.#finish());
  }

  get bufferedBytes(): number {
    return this.#queuedBytes + this.#held.bytes;
  }

  write(message: StreamMessage): boolean {
    if (this.#ended || this.#finished) return true;
    const bytes = typeof message.data === 'string' ? Buffer.byteLength(message.data) : message.data.length;
    const line = message.binary
      ? `{"type":"stream_data","id":"${this.id}","binary":true,"data":"${Buffer.isBuffer(message.data) ? message.data.toString('base64') : Buffer.from(message.data).toString('base64')}"}\n`
      : `{"type":"stream_data","id":"${this.id}","data":${JSON.stringify(String(message.data))}}\n`;
    this.#queue.push({ line, bytes });
    this.#queuedBytes += bytes;
    this.#pump();
    if (this.#queue.length === 0) return true;
    this.#blocked = true;
    return false;
  }

  release(): void {
    if (this.#held.count === 0) return;
    this.#releasedBytes += this.#held.shift();
    this.#releasedMessages++;
    if (this.#finished || this.#ended) return;
    if (this.#releasedMessages * 4 >= this.#windowMessages || this.#releasedBytes * 4 >= this.#windowBytes) {
      this.#port.send(encodeMessage({ type: 'stream_credit', id: this.id, messages: this.#releasedMessages }));
      this.#releasedMessages = 0;
      this.#releasedBytes = 0;
    }
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#dropQueue();
    if (!this.#finished) this.#port.send(encodeMessage({ type: 'stream_end', id: this.id }));
  }

  /** A stream_* message of this session from the runtime. */
  receive(message: Incoming): void {
    if (this.#finished) return;
    if (message.type === 'stream_ack') {
      if (message.messages > this.#sent.count) return this.#port.violate('the runtime acknowledged stream messages it was never sent');
      for (let i = 0; i < message.messages; i++) this.#sent.shift();
      this.#pump();
      return;
    }
    if (message.type === 'stream_close') {
      this.#request.onClose(message.code, message.reason);
      return;
    }
    const data = message.binary ? Buffer.from(message.data, 'base64') : message.data;
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (bytes > this.#maxMessageBytes) return this.#port.violate(`the function sent a message of ${bytes} bytes, more than ${this.#maxMessageBytes}`);
    const inFlight = this.#held.count + this.#releasedMessages;
    if (inFlight >= this.#windowMessages || this.#held.bytes + this.#releasedBytes >= this.#windowBytes + this.#maxMessageBytes) {
      return this.#port.violate('the runtime sent stream messages beyond its flow-control window');
    }
    if (this.#ended) return;
    this.#held.push(bytes);
    this.#request.onMessage({ data, binary: message.binary });
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#sent.count < this.#windowMessages && this.#sent.bytes < this.#windowBytes) {
      const next = this.#queue.shift()!;
      this.#queuedBytes -= next.bytes;
      this.#sent.push(next.bytes);
      this.#port.send(next.line);
    }
    if (this.#blocked && this.#queue.length === 0) {
      this.#blocked = false;
      this.#request.onWritable();
    }
  }

  #dropQueue(): void {
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  #finish(): void {
    this.#finished = true;
    this.#dropQueue();
    this.#sent.clear();
  }
}
