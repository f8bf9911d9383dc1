import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError } from '../core/errors.ts';
import type { StreamRequestInfo } from '../core/stream.ts';
import type { PreparedStream, StreamService } from '../streams/stream-service.ts';
import { clientAddressOf, platformKey } from './credentials.ts';
import { asAppError, errorBody, requestIdOf } from '../core/request-context.ts';

/** Claims an upgrade request by returning true (the gateway's `onUpgrade` takes the same shape). */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** Finds the function a connection (from `clientAddress`) names: the key holder's own, else a public one; undefined if neither. */
export type StreamResolver = (name: string, apiKey: string | undefined, clientAddress: string) => Promise<{ ownerId: string; functionId: string } | undefined>;

const WS_KEY_RE = /^[+/0-9A-Za-z]{22}==$/;
const HEARTBEAT_MS = 30_000;

/** `/ws/{name}[/rest]`, `/function/{name}[/rest]` or `/{name}[/rest]`; the function sees `/rest` (default `/`) as its path. */
export function parseStreamPath(url: string): { name: string; path: string; query: string } | undefined {
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const prefix = pathname.startsWith('/ws/') ? 4 : pathname.startsWith('/function/') ? 10 : 1;
  if (pathname.charCodeAt(0) !== 47 || pathname.length <= prefix) return undefined;
  const slash = pathname.indexOf('/', prefix);
  let name: string;
  try {
    name = decodeURIComponent(slash === -1 ? pathname.slice(prefix) : pathname.slice(prefix, slash)).normalize('NFC');
  } catch {
    return undefined;
  }
  if (name === '' || name.length > 128) return undefined;
  return { name, path: slash === -1 ? '/' : pathname.slice(slash), query };
}


function requestInfo(req: IncomingMessage, path: string, query: string, drop: string | undefined): StreamRequestInfo {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === drop || name === 'sec-websocket-key') continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { path, query: Object.fromEntries(new URLSearchParams(query)), headers };
}

/** What ws.handleUpgrade would refuse: checked before an instance is reserved for the connection. */
function checkHandshake(req: IncomingMessage): void {
  const version = req.headers['sec-websocket-version'];
  if (req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket' || !WS_KEY_RE.test(req.headers['sec-websocket-key'] ?? '') || (version !== '13' && version !== '8')) {
    throw new AppError('BAD_REQUEST', 'Not a valid WebSocket handshake (GET with Upgrade: websocket, Sec-WebSocket-Key and Sec-WebSocket-Version: 13)');
  }
}

function refuse(socket: Duplex, err: unknown, requestId: string, log: Pick<Logger, 'error'>): void {
  const error = asAppError(err);
  if (error.code === 'INTERNAL') log.error({ err, requestId }, 'stream upgrade failed');
  const text = JSON.stringify(errorBody(error, requestId));
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'x-request-id': requestId, connection: 'close', ...error.headers };
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
  if (!socket.destroyed) socket.end(`HTTP/1.1 ${error.status} ${reasonPhrase(error.status)}\r\n${head}\r\n\r\n${text}`);
}

const reasonPhrase = (status: number): string => ({ 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable' })[status] ?? 'Error';

/**
 * The WebSocket side of stream functions: `ws://<gateway>/<name>`, `/ws/<name>` and `/function/<name>`
 * upgrade into a session with one exclusive instance (docs/streams.md). `handleUpgrade` goes to the
 * gateway's onUpgrade.
 */
export class StreamEndpoint {
  readonly #service: StreamService;
  readonly #resolve: StreamResolver;
  readonly #log: Logger;
  readonly #wss: WebSocketServer;
  readonly #executionIds = new WeakMap<IncomingMessage, string>();
  readonly #clients = new Map<WebSocket, { alive: boolean; running: { gone(): void; done: Promise<void> } }>();
  readonly #heartbeat: NodeJS.Timeout;
  #closing = false;

  constructor(deps: { service: StreamService; resolve: StreamResolver; log: Logger; heartbeatMs?: number }) {
    this.#service = deps.service;
    this.#resolve = deps.resolve;
    this.#log = deps.log;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: deps.service.limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
    this.#wss.on('headers', (headers, req) => {
      const id = this.#executionIds.get(req);
      if (id !== undefined) headers.push(`x-execution-id: ${id}`);
    });
    this.#heartbeat = setInterval(() => this.#ping(), deps.heartbeatMs ?? HEARTBEAT_MS).unref();
  }

  /** Claims WebSocket upgrades whose path names a function (other upgrades are left to the gateway). */
  readonly handleUpgrade: UpgradeHandler = (req, socket, head) => {
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') return false;
    const target = parseStreamPath(req.url ?? '/');
    if (target === undefined) return false;
    void this.#accept(req, socket, head, target);
    return true;
  };

  async #accept(req: IncomingMessage, socket: Duplex, head: Buffer, target: { name: string; path: string; query: string }): Promise<void> {
    socket.on('error', () => {});
    const requestId = requestIdOf(req.headers['x-request-id']);
    let prepared: PreparedStream | undefined;
    try {
      if (this.#closing) throw new AppError('SERVICE_UNAVAILABLE', 'The platform is stopping');
      const credential = platformKey(req);
      const found = await this.#resolve(target.name, credential?.key, clientAddressOf(req));
      if (found === undefined) throw new AppError('NOT_FOUND', `No function ${target.name.slice(0, 128)} here: not public, or not yours (send your API key)`);
      checkHandshake(req);
      prepared = await this.#service.prepare(found.ownerId, found.functionId, requestInfo(req, target.path, target.query, credential?.header), requestId);
    } catch (err) {
      return refuse(socket, err, requestId, this.#log);
    }
    if (socket.destroyed || this.#closing) return this.#service.abandon(prepared);
    this.#executionIds.set(req, prepared.executionId);
    let accepted = false;
    const ready = prepared;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      this.#connected(ws, socket, ready);
    });
    // ws refuses some handshakes itself (and never calls back): the instance must not stay reserved.
    if (!accepted) this.#service.abandon(prepared);
  }

  #connected(ws: WebSocket, socket: Duplex, prepared: PreparedStream): void {
    let corked = false;
    const running = this.#service.run(prepared, {
      send: (message, written) => {
        // The function's messages of one event-loop turn leave in one write to the client's socket.
        if (!corked) {
          corked = true;
          socket.cork();
          setImmediate(() => {
            corked = false;
            socket.uncork();
          });
        }
        ws.send(message.data, { binary: message.binary }, () => written());
      },
      close: (code, reason) => ws.close(code, reason),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
    });
    const client = { alive: true, running };
    this.#clients.set(ws, client);
    ws.on('message', (data: Buffer, isBinary: boolean) => running.message(isBinary ? { data, binary: true } : { data: data.toString('utf8'), binary: false }));
    ws.on('pong', () => (client.alive = true));
    ws.on('error', () => {});
    ws.on('close', () => {
      this.#clients.delete(ws);
      running.gone();
    });
  }

  /**
   * A client that did not answer the last ping is gone (a dead peer would otherwise hold its instance).
   * While its socket is paused (the function is not reading) its pongs cannot be read: it is not judged.
   */
  #ping(): void {
    for (const [ws, client] of this.#clients) {
      if (ws.isPaused) {
        client.alive = true;
        continue;
      }
      if (!client.alive) {
        ws.terminate();
        continue;
      }
      client.alive = false;
      ws.ping();
    }
  }

  /** Refuses new connections and closes open ones (1001 going away), letting their sessions end and be recorded. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#heartbeat);
    const sessions = [...this.#clients].map(([ws, client]) => {
      ws.close(1001, 'the platform is stopping');
      client.running.gone();
      return client.running.done;
    });
    await Promise.race([Promise.allSettled(sessions), new Promise((resolve) => setTimeout(resolve, this.#service.limits.endGraceMs + 1000).unref())]);
    for (const ws of this.#clients.keys()) ws.terminate();
    this.#wss.close();
  }
}
