import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ConnectionLimits } from '../config/options.ts';
import { AppError } from '../core/errors.ts';
import { errorBody, requestIdOf } from '../core/request-context.ts';

type GuardLog = Pick<Logger, 'warn' | 'error'>;

const WARN_EVERY_MS = 60_000;

/**
 * node:http's own timeouts for the limits, as createServer options (Fastify's `http` option takes them
 * too). Node looks for requests past them every `connectionsCheckingInterval`, 30 s by default, which
 * would add up to 30 s to each.
 */
export function httpTimeouts(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
}

/** Warns of an event the first time and then at most once a minute, with how many happened meanwhile. */
class ThrottledWarning {
  readonly #log: GuardLog;
  readonly #message: string;
  #count = 0;
  #lastAt = -Infinity;

  constructor(log: GuardLog, message: string) {
    this.#log = log;
    this.#message = message;
  }

  hit(fields: Record<string, unknown>): void {
    this.#count++;
    const now = Date.now();
    if (now - this.#lastAt < WARN_EVERY_MS) return;
    this.#lastAt = now;
    this.#log.warn({ ...fields, events: this.#count }, this.#message);
    this.#count = 0;
  }
}

const isOutOfDescriptors = (err: NodeJS.ErrnoException): boolean => err.code === 'EMFILE' || err.code === 'ENFILE';

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is 1.2.3.4. */
const clientAddress = (socket: Socket): string | undefined => socket.remoteAddress?.replace(/^::ffff:(?=\d+\.)/, '');

/**
 * What one listening HTTP server does about abusive connections (docs/limits.md): at most
 * `maxConnections` at once (node closes the rest as they arrive) and `maxConnectionsPerAddress` from
 * one client address (answered 429 TOO_MANY_CONNECTIONS and closed); a response the client has not
 * taken for `sendTimeoutMs` ends its connection. Out of file descriptors, libuv refuses new
 * connections itself (it accepts and closes them) while the open ones are served; an accept error it
 * does report is logged, never fatal.
 */
export class ConnectionGuard {
  readonly #limits: ConnectionLimits;
  readonly #port: string;
  readonly #perAddress = new Map<string, number>();
  /** HTTP connections and since when each has had output waiting (0: none). */
  readonly #pendingSince = new Map<Duplex, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #log: GuardLog;
  readonly #warnings: Record<'dropped' | 'refused' | 'slow' | 'descriptors', ThrottledWarning>;

  constructor(server: Server, limits: ConnectionLimits, log: GuardLog, port: string) {
    this.#limits = limits;
    this.#port = port;
    this.#log = log;
    this.#warnings = {
      dropped: new ThrottledWarning(log, 'connection limit of the port reached: new connections are closed as they arrive (HTTP_MAX_CONNECTIONS)'),
      refused: new ThrottledWarning(log, 'a client address reached its connection limit: further connections are refused (HTTP_MAX_CONNECTIONS_PER_ADDRESS)'),
      slow: new ThrottledWarning(log, 'a client did not take its response in time: connection closed (HTTP_SEND_TIMEOUT_MS)'),
      descriptors: new ThrottledWarning(log, 'out of file descriptors: new connections are refused until some close; open ones are still served'),
    };
    server.maxConnections = limits.maxConnections;
    server.on('drop', () => this.#warnings.dropped.hit({ port, maxConnections: limits.maxConnections }));
    server.on('connection', (socket: Socket) => this.#admit(socket));
    // Errors while listening (EADDRINUSE) belong to listen(); after that, an 'error' without a listener would end the process.
    server.once('listening', () => server.on('error', (err: NodeJS.ErrnoException) => this.#serverError(err)));
    const every = Math.max(25, Math.min(1000, Math.floor(limits.sendTimeoutMs / 4)));
    this.#timer = setInterval(() => this.#cutSlowReaders(), every).unref();
    server.once('close', () => clearInterval(this.#timer));
  }

  /** A connection upgraded to another protocol (a WebSocket) has its own liveness checks: the send timeout no longer applies. */
  upgraded(socket: Duplex): void {
    this.#pendingSince.delete(socket);
  }

  #admit(socket: Socket): void {
    const address = clientAddress(socket);
    if (address === undefined) return; // already gone
    const open = this.#perAddress.get(address) ?? 0;
    if (open >= this.#limits.maxConnectionsPerAddress) return this.#refuse(socket, address);
    this.#perAddress.set(address, open + 1);
    this.#pendingSince.set(socket, 0);
    socket.on('drain', () => {
      if (this.#pendingSince.has(socket)) this.#pendingSince.set(socket, 0);
    });
    socket.once('close', () => {
      this.#pendingSince.delete(socket);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
    });
  }

  #refuse(socket: Socket, address: string): void {
    this.#warnings.refused.hit({ port: this.#port, address, maxConnectionsPerAddress: this.#limits.maxConnectionsPerAddress });
    const body = JSON.stringify(errorBody(new AppError('TOO_MANY_CONNECTIONS', `This address has ${this.#limits.maxConnectionsPerAddress} connections open: reuse them, or close some`), requestIdOf(undefined)));
    socket.on('error', () => {});
    socket.write(`HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nretry-after: 1\r\nconnection: close\r\n\r\n${body}`);
    socket.destroySoon();
  }

  /** Output that has waited `sendTimeoutMs` without draining: the client is not reading. */
  #cutSlowReaders(): void {
    const now = Date.now();
    for (const [socket, since] of this.#pendingSince) {
      if (socket.writableLength === 0) {
        if (since !== 0) this.#pendingSince.set(socket, 0);
      } else if (since === 0) this.#pendingSince.set(socket, now);
      else if (now - since >= this.#limits.sendTimeoutMs) {
        this.#pendingSince.delete(socket);
        this.#warnings.slow.hit({ port: this.#port, unsentBytes: socket.writableLength, sendTimeoutMs: this.#limits.sendTimeoutMs });
        socket.destroy();
      }
    }
  }

  #serverError(err: NodeJS.ErrnoException): void {
    if (isOutOfDescriptors(err)) this.#warnings.descriptors.hit({ port: this.#port, code: err.code });
    else this.#log.error({ err, port: this.#port }, 'accepting a connection failed');
  }
}
