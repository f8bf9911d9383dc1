import { connect, type Socket } from 'node:net';

/** A raw TCP connection as an attacker holds one: what it received, and when the server closed it. */
export interface RawConnection {
  socket: Socket;
  /** Everything received so far (kept only while `keep` is true). */
  received(): string;
  bytes(): number;
  /** Resolves with the milliseconds from connecting to the server closing the connection. */
  closed: Promise<number>;
  isClosed(): boolean;
}

const opened = new Set<Socket>();

/** Destroys every connection this helper opened (after a failed assertion left some open). */
export function destroyAllRaw(): void {
  for (const socket of opened) socket.destroy();
  opened.clear();
}

/** Opens a connection and resolves once it is established (or refused: then it is already closed). */
export function openRaw(port: number, options: { localAddress?: string; keep?: boolean; paused?: boolean } = {}): Promise<RawConnection> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ port, host: '127.0.0.1', localAddress: options.localAddress });
    opened.add(socket);
    let text = '';
    let bytes = 0;
    let closedAt: number | undefined;
    const closed = new Promise<number>((done) => socket.on('close', () => {
      opened.delete(socket);
      done((closedAt = Date.now() - started));
    }));
    socket.on('error', () => {});
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (options.keep !== false && text.length < 1_000_000) text += chunk.toString('latin1');
    };
    // A paused connection reads (and counts) only once the caller resumes it.
    if (options.paused) {
      socket.pause();
      socket.once('resume', () => socket.on('data', onData));
    } else socket.on('data', onData);
    const connection: RawConnection = {
      socket,
      received: () => text,
      bytes: () => bytes,
      closed,
      isClosed: () => closedAt !== undefined,
    };
    socket.once('connect', () => resolve(connection));
    socket.once('close', () => resolve(connection));
  });
}

/** Sends one request on an open connection and resolves with the response's status line and body text. */
export function rawRequest(connection: RawConnection, request: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const from = connection.received().length;
  connection.socket.write(request);
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const check = (): void => {
      const text = connection.received().slice(from);
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, head));
      if (head !== -1 && length && text.length >= head + 4 + Number(length[1])) {
        return resolve({ status: Number(text.slice(9, 12)), body: text.slice(head + 4, head + 4 + Number(length[1])) });
      }
      if (connection.isClosed()) return reject(new Error(`the connection closed before a response: ${JSON.stringify(text.slice(0, 200))}`));
      if (Date.now() > deadline) return reject(new Error(`no response within ${timeoutMs} ms: ${JSON.stringify(text.slice(0, 200))}`));
      setTimeout(check, 10);
    };
    check();
  });
}

/** Writes `text` one byte every `everyMs` until the connection closes; returns a stopper. */
export function trickle(connection: RawConnection, text: string, everyMs: number): () => void {
  let at = 0;
  const timer = setInterval(() => {
    if (connection.isClosed() || at >= text.length) return clearInterval(timer);
    connection.socket.write(text[at++]!);
  }, everyMs);
  return () => clearInterval(timer);
}

/** Resolves with the close time of each connection, or undefined for those still open after `ms`. */
export async function closedWithin(connections: RawConnection[], ms: number): Promise<Array<number | undefined>> {
  const limit = new Promise<undefined>((resolve) => setTimeout(resolve, ms));
  return Promise.all(connections.map((c) => Promise.race([c.closed, limit])));
}
