export type Runtime = 'node' | 'python' | 'php' | 'wasm' | 'command';

export interface User {
  id: string;
  username: string;
  role: 'admin' | 'user';
  createdAt: string;
}

export interface Session {
  token: string;
  expiresAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface NewApiKey extends Omit<ApiKey, 'lastUsedAt'> {
  /** The key itself; the API shows it only once. */
  key: string;
}

export type RouteMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'ANY';

/**
 * What a function invoked through the gateway receives: `http`, the request ({method, path, params,
 * query, headers, body, isBase64Encoded}); `body`, its parsed JSON body (docs/gateway.md).
 */
export type EventShape = 'http' | 'body';

/** An HTTP route on the gateway: `path` may hold `:params` and end in `*` (docs/gateway.md). */
export interface Route {
  method: RouteMethod;
  path: string;
  /** `public` (default): anyone; `api_key`: only with an API key of the function's owner. */
  auth?: 'public' | 'api_key';
  /** The route's own event shape; left out (or null), the function's `eventShape`. */
  eventShape?: EventShape | null;
}

/** A route as the API answers it: `eventShape` only when the route sets its own. */
export interface DeclaredRoute {
  method: RouteMethod;
  path: string;
  auth: 'public' | 'api_key';
  eventShape?: EventShape;
}

/** How a function is reachable on the gateway. */
export interface Exposure {
  /** Callable by anyone at /function/{name}. */
  public: boolean;
  routes: DeclaredRoute[];
}

export interface RouteInfo extends DeclaredRoute {
  functionId: string;
  functionName: string;
}

export interface FunctionSettings {
  name?: string;
  runtime?: Runtime;
  handler?: string;
  memoryMb?: number;
  timeoutMs?: number;
  env?: Record<string, string>;
  concurrency?: number;
  maxInstances?: number;
  maxAttempts?: number;
  /** Names of your secrets to inject as upper-cased environment variables. */
  secrets?: string[];
  /** Gateway routes; given, they replace the function's routes ([] removes them). */
  routes?: Route[];
  /** Callable by anyone at /function/{name} on the gateway. */
  public?: boolean;
  /** What the gateway sends the function (default `http`); a route may set its own. */
  eventShape?: EventShape;
  /** Pool policy of WebSocket stream instances; fields left out keep their value. */
  stream?: Partial<StreamPolicy>;
}

export interface StreamPolicy {
  /** Idle stream instances kept ready while the function is streamed to (default 0). */
  minFree: number;
  /** A stream instance idle this long is stopped (default 900000 = 15 min). */
  idleTimeoutMs: number;
}

export type FileContent = string | { content: string; encoding: 'utf8' | 'base64' };

export interface FunctionDeploy extends FunctionSettings {
  code?: string;
  filename?: string;
  files?: Record<string, FileContent>;
}

export interface FunctionInfo {
  id: string;
  name: string;
  runtime: Runtime;
  handler: string;
  memoryMb: number;
  timeoutMs: number;
  env: Record<string, string>;
  concurrency: number;
  maxInstances: number;
  maxAttempts: number;
  secrets: string[];
  stream: StreamPolicy;
  eventShape: EventShape;
  public: boolean;
  routes: DeclaredRoute[];
  version: number;
  codeHash: string;
  codeSource: 'inline' | 'files' | 'bundle';
  codeSize: number;
  createdAt: string;
  updatedAt: string;
}

export type FunctionVersion = Omit<FunctionInfo, 'id' | 'name' | 'updatedAt'>;

export type ExecutionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'timed_out' | 'oom_killed' | 'output_truncated' | 'system_error' | 'cancelled' | 'dead_lettered';

export interface Execution {
  id: string;
  functionId: string;
  functionName: string;
  version: number;
  mode: 'sync' | 'async' | 'stream';
  status: ExecutionStatus;
  input: unknown;
  result: unknown;
  error: { reason: string; message: string; stack?: string } | null;
  logsTruncated: boolean;
  durationMs: number | null;
  coldStart: boolean | null;
  instanceId: string | null;
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Queued {
  id: string;
  status: 'queued';
}

export interface ExecutionLogs {
  executionId: string;
  logs: string;
  truncated: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Instance {
  id: string;
  functionId: string | null;
  functionName: string | null;
  version: number | null;
  runtime: string;
  state: string;
  pid: number | null;
  memoryBytes: number | null;
  uptimeMs: number;
  invocations: number;
  inFlight: number;
  idleMs: number | null;
}

export interface SecretMeta {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface ObjectMeta {
  name: string;
  size: number;
  contentType: string;
  /** sha256:<hex> */
  checksum: string;
  createdAt: string;
  updatedAt: string;
}

export interface Utilisation {
  cpu: number;
  memory: number;
  io: number;
}

interface LoadValues {
  utilisation: Utilisation | null;
  /** Smoothed: ema = emaFactor·previous + (1 − emaFactor)·sample */
  ema: Utilisation | null;
  score: number;
  saturated: boolean;
}

export interface InstanceLoad extends LoadValues {
  id: string;
  functionId: string;
  functionName: string;
  version: number;
  runtime: string;
  state: string;
  inFlight: number;
  concurrency: number;
}

export interface WorkerLoad extends LoadValues {
  id: string;
  pid: number;
  cores: number;
  instances: number;
  stemCells: number;
  inFlight: number;
}

/** GET /api/v1/metrics/workers: live load of your instances (admins: all, plus the worker processes). */
export interface LoadReport {
  settings: { intervalMs: number; emaFactor: number; weights: Utilisation; ioReferenceBytesPerSec: number; saturationScore: number };
  instances: InstanceLoad[];
  workers: WorkerLoad[] | null;
}

/** GET /api/functions/{id}/streams: stream instances and open sessions (docs/streams.md). */
export interface StreamStatus {
  pools: Array<{
    version: number;
    policy: StreamPolicy;
    starting: number;
    instances: Array<{ id: string; state: 'busy' | 'idle'; since: string; sessions: number }>;
  }>;
  sessions: Array<{
    executionId: string;
    functionId: string;
    instanceId: string;
    startedAt: string;
    messagesIn: number;
    messagesOut: number;
    bufferedBytes: number;
    clientBufferedBytes: number;
  }>;
}
