/** Domain types shared by services, the API and the store. Store rows are mapped to these. */
import type { ExecutionReason, Fault } from './execution-reasons.ts';

export type Role = 'admin' | 'user';

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: string;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export const RUNTIMES = ['node', 'python', 'php', 'wasm', 'command'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export type CodeSource = 'inline' | 'files' | 'bundle';

/** How a function's WebSocket stream instances are pooled (docs/streams.md). */
export interface StreamPolicy {
  /** Idle instances kept ready while the function is being streamed to; fewer starts more. */
  minFree: number;
  /** An instance idle this long is stopped (beyond minFree, or once no session is open). */
  idleTimeoutMs: number;
}

/**
 * What a function invoked through the gateway receives (docs/gateway.md): `http`, the HTTP event
 * (method, path, params, query, headers, body); `body`, what the request carries (its parsed JSON body).
 */
export const EVENT_SHAPES = ['http', 'body'] as const;
export type EventShape = (typeof EVENT_SHAPES)[number];

export interface FunctionConfig {
  runtime: Runtime;
  handler: string;
  memoryMb: number;
  /** CPU bandwidth of each instance in percent of one core; null: derived from memoryMb (docs/sandbox.md#cpu). */
  cpuQuotaPercent: number | null;
  timeoutMs: number;
  env: Record<string, string>;
  /** Invocations one instance serves at once. */
  concurrency: number;
  /** Most instances of one version running at once. */
  maxInstances: number;
  /** Attempts of an async invocation before it is dead-lettered. */
  maxAttempts: number;
  /** Names of the owner's secrets injected as environment variables (upper-cased). */
  secrets: string[];
  stream: StreamPolicy;
  /** The gateway's event for this function, unless a route sets its own. */
  eventShape: EventShape;
}

export interface FunctionVersion extends FunctionConfig {
  id: string;
  functionId: string;
  version: number;
  codeHash: string;
  codeSource: CodeSource;
  codeSize: number;
  createdAt: string;
}

export interface FunctionRecord extends FunctionConfig {
  id: string;
  ownerId: string;
  name: string;
  version: number;
  codeHash: string;
  codeSource: CodeSource;
  codeSize: number;
  createdAt: string;
  updatedAt: string;
}

export const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'ANY'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];
/** `public`: anyone may call the route; `api_key`: only with an API key of the function's owner. */
export const ROUTE_AUTH = ['public', 'api_key'] as const;
export type RouteAuth = (typeof ROUTE_AUTH)[number];

/** An HTTP route on the gateway that invokes a function (docs/gateway.md). */
export interface FunctionRoute {
  method: RouteMethod;
  path: string;
  auth: RouteAuth;
  /** Set: the event this route sends, whatever the function's eventShape. */
  eventShape?: EventShape;
}

/** How a function is reachable on the gateway. */
export interface Exposure {
  /** Callable by anyone at /function/{name}; the name is then unique among public functions. */
  public: boolean;
  routes: FunctionRoute[];
}

/** Who is making a request: resolved once by the auth hook. */
export interface Principal {
  userId: string;
  role: Role;
  /** `internal`: the platform acting for the owner (the gateway after its own auth check, a worker). */
  via: 'jwt' | 'api_key' | 'internal';
}

/** The platform acting for a resource's owner, once that owner has been established some other way. */
export function ownerPrincipal(userId: string): Principal {
  return { userId, role: 'user', via: 'internal' };
}

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'timed_out', 'oom_killed', 'output_truncated', 'system_error', 'cancelled', 'dead_lettered'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export type ExecutionStatus = 'queued' | 'running' | TerminalStatus;

export interface ExecutionError {
  /** Why the execution ended this way (core/execution-reasons.ts): "timeout", "oom", "user_error", "crashed"… */
  reason: ExecutionReason;
  /** Whose doing it was, from the same registry: the function's (`user`) or the platform's. */
  fault: Fault;
  message: string;
  stack?: string;
}

export interface Execution {
  id: string;
  ownerId: string;
  functionId: string;
  functionName: string;
  version: number;
  mode: 'sync' | 'async' | 'stream';
  status: ExecutionStatus;
  input: unknown;
  result: unknown;
  error: ExecutionError | null;
  logsTruncated: boolean;
  durationMs: number | null;
  coldStart: boolean | null;
  instanceId: string | null;
  /** WORKER_ID of the worker whose instance ran it; null before it ran (or when no worker took it). */
  workerId: string | null;
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A stored object of a function (the bytes live in the object store). */
export interface ObjectInfo {
  id: string;
  functionId: string;
  name: string;
  size: number;
  contentType: string;
  /** `sha256:<hex>` */
  checksum: string;
  createdAt: string;
  updatedAt: string;
}

/** A secret as anyone may see it: never its value. */
export interface SecretMeta {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}
