import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { AppError } from '../core/errors.ts';
import type { EventShape, ExecutionError, ExecutionStatus } from '../core/types.ts';
import { NO_METRICS, type PlatformMetrics } from '../core/metrics.ts';
import type { LiveRoutes } from './routing-table.ts';
import { clientAddressOf, platformKey } from './credentials.ts';
import { asAppError, errorBody, requestIdOf } from '../core/request-context.ts';
import { bodyOf, decodeParams, eventHeaders, parseQuery, readBody, type HttpEvent } from './http-event.ts';
import { toHttpResponse, type HttpResponse } from './http-response.ts';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../config/options.ts';
import { ConnectionGuard, httpTimeouts } from '../net/connection-guard.ts';

/**
 * A function the gateway will call: its owner and id, and whatever the backend resolved while finding
 * it (passed back to `invoke` as is, so a function found by name is not looked up again).
 */
export interface FunctionHandle {
  ownerId: string;
  functionId: string;
  resolved?: unknown;
}

/** A finished invocation as the gateway answers it; `resultJson` is the result's JSON text, serialised once. */
export interface GatewayResult {
  id: string;
  status: ExecutionStatus;
  result: unknown;
  resultJson: string;
  error: ExecutionError | null;
}

/** What the gateway needs from the platform; the composition root wires it to the auth, function and execution services. */
export interface GatewayBackend {
  /**
   * The owner of an API key sent from `clientAddress`; throws INVALID_TOKEN for a key that is not valid,
   * RATE_LIMITED once that address has sent too many that were not.
   */
  authenticate(apiKey: string, clientAddress: string): Promise<{ userId: string }>;
  /** The owner's function with this name, if there is one. */
  findFunction(ownerId: string, name: string): Promise<FunctionHandle | undefined>;
  /**
   * Runs the latest version synchronously, recorded as an execution like any other invocation. The
   * function sees the request as the route's `eventShape` says, else as its own says (eventFor).
   */
  invoke(fn: FunctionHandle, request: HttpEvent, context: { requestId: string; eventShape?: EventShape }): Promise<GatewayResult>;
}

/** Claims a WebSocket (or other) upgrade request by returning true; see docs/gateway.md. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

interface Target {
  fn: FunctionHandle;
  params: Record<string, string>;
  path: string;
  /** Request headers that carried a platform credential: consumed here, never passed to the function. */
  drop: readonly string[];
  /** The route's own event shape; absent, the function's. */
  eventShape?: EventShape;
}

const FUNCTION_PREFIX = '/function/';
const HEALTH_PATH = '/_skyscale/healthz';
const NO_HEADERS: readonly string[] = [];
/** Metrics labels besides route patterns: never the raw URL, whose values are unbounded. */
const UNMATCHED = '(unmatched)';
const FUNCTION_LABEL = '/function/:name';


function outcome(execution: GatewayResult): HttpResponse {
  if (execution.status === 'succeeded') return toHttpResponse(execution.result, execution.resultJson);
  const details = { executionId: execution.id, status: execution.status, reason: execution.error?.reason ?? null };
  if (execution.status === 'timed_out') throw new AppError('FUNCTION_TIMEOUT', `The function did not finish in time (execution ${execution.id})`, { details });
  throw new AppError('EXECUTION_FAILED', `The function did not succeed: ${execution.status} (execution ${execution.id})`, { details });
}

/**
 * The data plane: user HTTP routes and /function/{name} on GATEWAY_PORT, on raw node:http (docs/gateway.md
 * has the measurement behind that choice). Every request resolves against one immutable routing table.
 */
export class GatewayServer {
  readonly server: Server;
  readonly #routes: LiveRoutes;
  readonly #backend: GatewayBackend;
  readonly #maxBodyBytes: number;
  readonly #log: Pick<Logger, 'warn' | 'error' | 'debug' | 'isLevelEnabled'>;
  readonly #upgrades: UpgradeHandler[] = [];
  readonly #metrics: PlatformMetrics;
  readonly #guard: ConnectionGuard;

  constructor(deps: { routes: LiveRoutes; backend: GatewayBackend; maxBodyBytes: number; log: Pick<Logger, 'warn' | 'error' | 'debug' | 'isLevelEnabled'>; metrics?: PlatformMetrics; connections?: ConnectionLimits }) {
    this.#routes = deps.routes;
    this.#metrics = deps.metrics ?? NO_METRICS;
    this.#backend = deps.backend;
    this.#maxBodyBytes = deps.maxBodyBytes;
    this.#log = deps.log;
    const connections = deps.connections ?? DEFAULT_CONNECTION_LIMITS;
    this.server = createServer(httpTimeouts(connections), (req, res) => void this.handleRequest(req, res));
    this.#guard = new ConnectionGuard(this.server, connections, deps.log, 'gateway');
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
  }

  /** Registers a handler for upgrade requests (WebSocket streams); the first one that returns true owns the socket. */
  onUpgrade(handler: UpgradeHandler): void {
    this.#upgrades.push(handler);
  }

  /**
   * Resolves /function/{name} for a caller: the key holder's own function of that name, else the public
   * function of that name, else undefined. Stream endpoints resolve names the same way.
   */
  async resolveFunction(name: string, key: string | undefined, clientAddress: string): Promise<FunctionHandle | undefined> {
    if (key !== undefined) {
      const { userId } = await this.#backend.authenticate(key, clientAddress);
      const found = await this.#backend.findFunction(userId, name);
      if (found !== undefined) return found;
    }
    const found = this.#routes.current.publicFunctions.get(name);
    return found === undefined ? undefined : { ownerId: found.ownerId, functionId: found.functionId };
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : port;
  }

  /** Stops accepting connections, lets requests in flight finish for up to `graceMs`, then drops the rest. */
  async close(graceMs = 2000): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  /** The request listener of `server`; public so it can be mounted on another server (bench/ compares one). Never throws. */
  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = requestIdOf(req.headers['x-request-id']);
    const method = req.method ?? 'GET';
    let executionId: string | undefined;
    let label = UNMATCHED;
    try {
      const url = req.url ?? '/';
      if (url.charCodeAt(0) !== 47) throw new AppError('BAD_REQUEST', 'The request target must be a path');
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (path === HEALTH_PATH) return this.#send(res, { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: Buffer.from(`{"status":"ok","routes":${this.#routes.current.router.size}}`) }, requestId);
      let target: Target;
      if (path.startsWith(FUNCTION_PREFIX)) {
        label = FUNCTION_LABEL;
        target = await this.#functionTarget(req, path);
      } else target = await this.#routeTarget(req, method, path, (pattern) => (label = pattern));
      const bytes = await readBody(req, this.#maxBodyBytes);
      const request: HttpEvent = { method, path: target.path, params: target.params, query: parseQuery(q === -1 ? '' : url.slice(q + 1)), headers: eventHeaders(req, target.drop), ...bodyOf(bytes, req.headers['content-type']) };
      const execution = await this.#backend.invoke(target.fn, request, { requestId, eventShape: target.eventShape });
      executionId = execution.id;
      this.#send(res, outcome(execution), requestId, executionId);
    } catch (err) {
      this.#fail(res, err, requestId, executionId);
    }
    const durationMs = performance.now() - started;
    this.#metrics.request({ plane: 'gateway', route: label, method, statusCode: res.statusCode, durationMs });
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ requestId, executionId, route: label, method, statusCode: res.statusCode, durationMs }, 'gateway request completed');
  }

  /** `matched` hears the route's pattern as soon as it is known, so a refused request (401) is still counted under it. */
  async #routeTarget(req: IncomingMessage, method: string, path: string, matched: (label: string) => void): Promise<Target> {
    const found = this.#routes.current.router.find(method, path);
    if (found.kind === 'not_found') throw new AppError('ROUTE_NOT_FOUND', `No route ${method} ${path.slice(0, 200)}`);
    if (found.kind === 'method_not_allowed') throw new AppError('METHOD_NOT_ALLOWED', `${path.slice(0, 200)} does not accept ${method}`, { headers: { allow: found.allow.join(', ') } });
    const { route } = found;
    matched(route.path);
    let drop = NO_HEADERS;
    if (route.auth === 'api_key') {
      const credential = platformKey(req);
      if (credential === undefined) throw new AppError('UNAUTHENTICATED', 'This route needs an API key of its owner (X-API-Key or Authorization: Bearer)');
      const { userId } = await this.#backend.authenticate(credential.key, clientAddressOf(req));
      if (userId !== route.ownerId) throw new AppError('INVALID_TOKEN', 'This API key does not grant access to this route');
      drop = [credential.header];
    }
    return { fn: { ownerId: route.ownerId, functionId: route.functionId }, params: decodeParams(found.params), path, drop, eventShape: route.eventShape };
  }

  /** /function/{name}[/rest]: any method; the event's path is the rest. */
  async #functionTarget(req: IncomingMessage, path: string): Promise<Target> {
    const slash = path.indexOf('/', FUNCTION_PREFIX.length);
    const rawName = slash === -1 ? path.slice(FUNCTION_PREFIX.length) : path.slice(FUNCTION_PREFIX.length, slash);
    let name: string;
    try {
      name = decodeURIComponent(rawName).normalize('NFC');
    } catch {
      throw new AppError('BAD_REQUEST', 'The function name is not valid percent-encoding');
    }
    const credential = platformKey(req);
    const found = name === '' ? undefined : await this.resolveFunction(name, credential?.key, clientAddressOf(req));
    if (found === undefined) throw new AppError('NOT_FOUND', `No function ${name.slice(0, 128)} here: not public, or not yours (send your API key)`);
    return { fn: found, params: Object.create(null), path: slash === -1 ? '/' : path.slice(slash), drop: credential === undefined ? NO_HEADERS : [credential.header] };
  }

  #send(res: ServerResponse, response: HttpResponse, requestId: string, executionId?: string): void {
    if (res.destroyed) return;
    const headers = response.headers;
    headers['x-request-id'] = requestId;
    if (executionId !== undefined) headers['x-execution-id'] = executionId;
    const bodyless = response.status === 204 || response.status === 304;
    if (!bodyless) headers['content-length'] = String(response.body.length);
    res.writeHead(response.status, headers);
    res.end(bodyless ? undefined : response.body);
  }

  #fail(res: ServerResponse, err: unknown, requestId: string, executionId: string | undefined): void {
    const error = asAppError(err);
    if (error.code === 'INTERNAL') this.#log.error({ err, requestId, executionId }, 'gateway request failed');
    const body = errorBody(error, requestId);
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...error.headers };
    // A refused body may still be arriving: close rather than read it.
    if (error.code === 'PAYLOAD_TOO_LARGE') headers.connection = 'close';
    this.#send(res, { status: error.status, headers, body: Buffer.from(JSON.stringify(body)) }, requestId, executionId);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#guard.upgraded(socket);
    for (const handler of this.#upgrades) if (handler(req, socket, head)) return;
    const body = JSON.stringify(errorBody(new AppError('ROUTE_NOT_FOUND'), requestIdOf(req.headers['x-request-id'])));
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  }
}
