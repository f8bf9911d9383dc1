import { SkyscaleError } from './errors.ts';

/** A WHATWG WebSocket constructor that takes `{ headers }` (Node's global WebSocket, or the `ws` package). */
export type WebSocketConstructor = new (url: string, options?: { headers?: Record<string, string> }) => WebSocket;

export interface StreamOptions {
  /** Sub-path after the function's name, seen by the function as `context.request.path` (default `/`). */
  path?: string;
  query?: Record<string, string>;
  /** Extra headers for the function (`context.request.headers`); the API key is added by the client. */
  headers?: Record<string, string>;
}

export type StreamData = string | Uint8Array;

/** One WebSocket session with a stream function (docs/streams.md): an exclusive instance while it is open. */
export class StreamConnection implements AsyncIterable<StreamData> {
  readonly #socket: WebSocket;
  readonly #inbox: StreamData[] = [];
  readonly #readers: Array<(result: IteratorResult<StreamData>) => void> = [];
  #ended = false;
  /** The session's execution record (GET /api/executions/{id} once it ended); known with the `ws` package only. */
  executionId: string | undefined;
  /** Settles when the connection is closed, by either side. */
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('message', (event) => {
      const data = typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer);
      const reader = this.#readers.shift();
      if (reader) reader({ done: false, value: data });
      else this.#inbox.push(data);
    });
    this.closed = new Promise((resolve) => socket.addEventListener('close', (event) => {
      this.#ended = true;
      for (const reader of this.#readers.splice(0)) reader({ done: true, value: undefined });
      resolve({ code: event.code, reason: event.reason });
    }));
  }

  /** Sends one message: a string as a text frame, bytes as a binary frame. */
  send(data: string | Uint8Array | ArrayBuffer): void {
    this.#socket.send(data as string | ArrayBuffer);
  }

  /** Bytes queued by send() and not yet written: wait (see drain()) when it grows. */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  /** Resolves once bufferedAmount is at most `below` (or the connection closed). */
  async drain(below = 1024 * 1024): Promise<void> {
    while (this.#socket.bufferedAmount > below && !this.#ended) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  close(code = 1000, reason = ''): void {
    this.#socket.close(code, reason);
  }

  /** The next message from the function; `undefined` once the connection is closed and everything was read. */
  async next(): Promise<StreamData | undefined> {
    const result = await this.#next();
    return result.done ? undefined : result.value;
  }

  #next(): Promise<IteratorResult<StreamData>> {
    const data = this.#inbox.shift();
    if (data !== undefined) return Promise.resolve({ done: false, value: data });
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => this.#readers.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamData> {
    return { next: () => this.#next() };
  }
}

/** Opens the socket and waits for the handshake; a refused upgrade becomes a SkyscaleError. */
export function openStreamSocket(Impl: WebSocketConstructor, url: string, headers: Record<string, string>): Promise<StreamConnection> {
  return new Promise((resolve, reject) => {
    const socket = new Impl(url, { headers });
    const connection = new StreamConnection(socket);
    let settled = false;
    socket.addEventListener('open', () => {
      settled = true;
      resolve(connection);
    });
    socket.addEventListener('error', () => {
      if (settled) return;
      settled = true;
      reject(new SkyscaleError(0, 'STREAM_REFUSED', `The stream at ${url} could not be opened: the server refused the upgrade (unknown or private function, missing or invalid API key, or no free instance) or is unreachable`));
    });
    // The `ws` package shows the handshake's response: the execution id, or why it was refused.
    const node = socket as unknown as {
      on?(event: 'upgrade', listener: (res: { headers: Record<string, unknown> }) => void): void;
      on?(event: 'unexpected-response', listener: (req: { destroy(): void }, res: AsyncIterable<Uint8Array> & { statusCode?: number }) => void): void;
    };
    node.on?.('upgrade', (res) => {
      const id = res.headers['x-execution-id'];
      if (typeof id === 'string') connection.executionId = id;
    });
    node.on?.('unexpected-response', (req, res) => {
      void (async () => {
        const decoder = new TextDecoder();
        let text = '';
        for await (const chunk of res) text += decoder.decode(chunk, { stream: true });
        text += decoder.decode();
        req.destroy();
        if (settled) return;
        settled = true;
        const status = res.statusCode ?? 0;
        try {
          const { error } = JSON.parse(text) as { error: { code: string; message: string; requestId?: string; details?: unknown } };
          reject(new SkyscaleError(status, error.code, error.message, error.requestId, error.details));
        } catch {
          reject(new SkyscaleError(status, `HTTP_${status}`, text.slice(0, 200) || `the server refused the upgrade with ${status}`));
        }
      })();
    });
  });
}
