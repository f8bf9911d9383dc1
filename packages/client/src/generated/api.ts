// generated — do not edit (npm run generate)
// The control API's request and response types, made by scripts/generate-client-types.ts from
// packages/server/src/api/schemas/. The SDK's own names for them are in ../types.ts.

export interface ApiKey {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface ApiKeyCreate {
  name?: string;
}

export interface BundleUpload {
  /** FunctionMetadata as JSON: name, runtime, handler, memoryMb, cpuQuotaPercent, timeoutMs, env, concurrency, maxInstances, maxAttempts, secrets, stream, routes, public */
  metadata?: string;
  /** A .tar.gz or .zip of the code */
  bundle?: string;
}

export interface CgroupCapabilities {
  version: 1 | 2 | null;
  /** Directory under which instance groups are created, per controller (v1) or unified (v2) */
  parents: Record<string, string>;
  memory: boolean;
  pids: boolean;
  cpu: boolean;
  cpuAccounting: boolean;
  /** Block I/O accounting: bytes read and written per instance */
  io: boolean;
  freezer: boolean;
}

/** How the code was given: `code` (inline), `files`, or a multipart bundle */
export type CodeSource = 'inline' | 'files' | 'bundle';

export interface Credentials {
  username: string;
  password: string;
}

/** Stable error codes (docs/errors.md) */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'VALIDATION_FAILED'
  | 'INVALID_JSON'
  | 'JSON_TOO_DEEP'
  | 'INVALID_ID'
  | 'INVALID_NAME'
  | 'INVALID_BUNDLE'
  | 'SYNTAX_ERROR'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNAUTHENTICATED'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_TOKEN'
  | 'FORBIDDEN'
  | 'SIGNUP_CLOSED'
  | 'NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'USERNAME_TAKEN'
  | 'FUNCTION_NAME_TAKEN'
  | 'ROUTE_CONFLICT'
  | 'PUBLIC_NAME_TAKEN'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'RUNTIME_UNAVAILABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'TOO_MANY_CONNECTIONS'
  | 'EXECUTION_FAILED'
  | 'INVALID_FUNCTION_RESPONSE'
  | 'FUNCTION_TIMEOUT'
  | 'INTERNAL'
  | 'SERVICE_UNAVAILABLE'
  | 'INSUFFICIENT_STORAGE';

/** Every error answers with this shape and a stable code (docs/errors.md). */
export interface ErrorResponse {
  error: {
    /** Stable error codes (docs/errors.md) */
    code: ErrorCode;
    message: string;
    requestId: string;
    details?: unknown;
  };
}

/** What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md */
export type EventShape = 'http' | 'body';

export interface ExecutionCreate {
  functionId?: string;
  function_id?: string;
  input?: unknown;
}

export interface ExecutionError {
  /** Why the execution ended this way (docs/executions.md lists every reason) */
  reason: 'user_error' | 'bad_input' | 'crashed' | 'timeout' | 'oom' | 'output_limit' | 'function_deleted' | 'queue_timeout' | 'secrets_unavailable' | 'sandbox_unavailable' | 'runtime_unavailable' | 'instance_stopped' | 'worker_lost' | 'lease_expired' | 'platform_error';
  /** user: the function's code or input; platform: the platform's doing */
  fault: 'none' | 'user' | 'platform';
  message: string;
  stack?: string;
}

export interface ExecutionListQuery {
  status?: ExecutionStatus;
  functionId?: string;
  cursor?: string;
  limit?: string;
}

export interface ExecutionLogs {
  executionId: string;
  logs: string;
  truncated: boolean;
}

export interface ExecutionPage {
  items: ExecutionResponse[];
  nextCursor: string | null;
}

export interface ExecutionResponse {
  id: string;
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
  workerId: string | null;
  attempts: number;
  maxAttempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export type ExecutionStatus =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'oom_killed'
  | 'output_truncated'
  | 'system_error'
  | 'cancelled'
  | 'dead_lettered';

export interface ExposureResponse {
  /** Callable by anyone at /function/{name} */
  public: boolean;
  routes: StoredRoute[];
}

export interface ExposureUpdate {
  /** Given, they replace the function's routes ([] removes them) */
  routes?: RouteInput[];
  /** Callable by anyone at /function/{name} on the gateway */
  public?: boolean;
}

export type FileEntry = string | {
  content: string;
  encoding: 'utf8' | 'base64';
};

export interface FunctionDeploy {
  name?: string;
  /** The language runtime (docs/runtimes.md) */
  runtime?: Runtime;
  /** e.g. "index.handler" (node, php), "main.handler" (python); the module file for wasm ("main.wasm"), the file to run for command ("main.py"). See docs/runtimes.md */
  handler?: string;
  memoryMb?: number;
  cpuQuotaPercent?: number | null;
  /** Default 30000, 300000 for command functions; at most the server's MAX_TIMEOUT_SECONDS × 1000 */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Invocations one instance serves at once (default 1) */
  concurrency?: number;
  /** Most instances of one version at once (default 10) */
  maxInstances?: number;
  /** Attempts of an async invocation before dead-lettering (default 3) */
  maxAttempts?: number;
  /** Names of your secrets to inject as upper-cased environment variables */
  secrets?: string[];
  /** Pool policy of WebSocket stream instances (docs/streams.md); fields left out keep their value */
  stream?: {
    /** Idle stream instances kept ready while the function is streamed to (default 0) */
    minFree?: number;
    /** A stream instance idle this long is stopped (default 900000 = 15 min) */
    idleTimeoutMs?: number;
  };
  /** HTTP routes on the gateway that invoke the function; given, they replace its routes ([] removes them) */
  routes?: RouteInput[];
  /** Callable by anyone at /function/{name} on the gateway (public names are unique) */
  public?: boolean;
  /** What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md */
  eventShape?: EventShape;
  /** A single file of code, stored under `filename` (default from the handler; for wasm and command, `filename` is the default handler) */
  code?: string;
  filename?: string;
  /** Path → content (utf8 text, or {content, encoding:"base64"}) */
  files?: Record<string, FileEntry>;
}

export interface FunctionMetadata {
  name?: string;
  /** The language runtime (docs/runtimes.md) */
  runtime?: Runtime;
  /** e.g. "index.handler" (node, php), "main.handler" (python); the module file for wasm ("main.wasm"), the file to run for command ("main.py"). See docs/runtimes.md */
  handler?: string;
  memoryMb?: number;
  cpuQuotaPercent?: number | null;
  /** Default 30000, 300000 for command functions; at most the server's MAX_TIMEOUT_SECONDS × 1000 */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Invocations one instance serves at once (default 1) */
  concurrency?: number;
  /** Most instances of one version at once (default 10) */
  maxInstances?: number;
  /** Attempts of an async invocation before dead-lettering (default 3) */
  maxAttempts?: number;
  /** Names of your secrets to inject as upper-cased environment variables */
  secrets?: string[];
  /** Pool policy of WebSocket stream instances (docs/streams.md); fields left out keep their value */
  stream?: {
    /** Idle stream instances kept ready while the function is streamed to (default 0) */
    minFree?: number;
    /** A stream instance idle this long is stopped (default 900000 = 15 min) */
    idleTimeoutMs?: number;
  };
  /** HTTP routes on the gateway that invoke the function; given, they replace its routes ([] removes them) */
  routes?: RouteInput[];
  /** Callable by anyone at /function/{name} on the gateway (public names are unique) */
  public?: boolean;
  /** What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md */
  eventShape?: EventShape;
}

export interface FunctionResponse {
  id: string;
  name: string;
  /** The language runtime (docs/runtimes.md) */
  runtime: Runtime;
  handler: string;
  memoryMb: number;
  cpuQuotaPercent: number | null;
  timeoutMs: number;
  env: Record<string, string>;
  concurrency: number;
  maxInstances: number;
  maxAttempts: number;
  secrets: string[];
  stream: StreamPolicy;
  /** What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md */
  eventShape: EventShape;
  /** Callable by anyone at /function/{name} */
  public: boolean;
  routes: StoredRoute[];
  version: number;
  /** SHA-256 of the code as stored (content-addressed) */
  codeHash: string;
  /** How the code was given: `code` (inline), `files`, or a multipart bundle */
  codeSource: CodeSource;
  /** Bytes of the code, uncompressed */
  codeSize: number;
  createdAt: string;
  updatedAt: string;
}

/** One immutable version of a function. Routes and the public flag belong to the function, not to a version. */
export interface FunctionVersionResponse {
  /** The language runtime (docs/runtimes.md) */
  runtime: Runtime;
  handler: string;
  memoryMb: number;
  cpuQuotaPercent: number | null;
  timeoutMs: number;
  env: Record<string, string>;
  concurrency: number;
  maxInstances: number;
  maxAttempts: number;
  secrets: string[];
  stream: StreamPolicy;
  /** What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md */
  eventShape: EventShape;
  version: number;
  /** SHA-256 of the code as stored (content-addressed) */
  codeHash: string;
  /** How the code was given: `code` (inline), `files`, or a multipart bundle */
  codeSource: CodeSource;
  /** Bytes of the code, uncompressed */
  codeSize: number;
  createdAt: string;
}

export interface HealthStatus {
  status: 'ok' | 'ready';
}

export interface IdParams {
  id: string;
}

export interface Instance {
  id: string;
  /** WORKER_ID of the worker it runs on */
  workerId: string;
  functionId: string | null;
  functionName: string | null;
  version: number | null;
  /** The runtime the instance runs */
  runtime: InstanceRuntime;
  /** stem: a runtime not yet loaded with a function; paused and snapshotting come with snapshots (core/instance-state.ts) */
  state: InstanceState;
  /** invoke: shared by invocations; stream: one WebSocket session at a time; stem: not specialised yet */
  kind: InstanceKind;
  pid: number | null;
  memoryBytes: number | null;
  uptimeMs: number;
  invocations: number;
  inFlight: number;
  idleMs: number | null;
}

/** invoke: shared by invocations; stream: one WebSocket session at a time; stem: not specialised yet */
export type InstanceKind = 'invoke' | 'stream' | 'stem';

export interface InstanceList {
  items: Instance[];
}

export interface InstanceLoad {
  id: string;
  functionId: string;
  functionName: string;
  version: number;
  /** The runtime the instance runs */
  runtime: InstanceRuntime;
  /** stem: a runtime not yet loaded with a function; paused and snapshotting come with snapshots (core/instance-state.ts) */
  state: InstanceState;
  inFlight: number;
  concurrency: number;
  raw: LoadReading | null;
  utilisation: Utilisation | null;
  ema: Utilisation | null;
  /** weights.cpu·ema.cpu + weights.memory·ema.memory + weights.io·ema.io */
  score: number;
  /** score >= settings.saturationScore */
  saturated: boolean;
}

/** The runtime the instance runs */
export type InstanceRuntime = 'node' | 'python' | 'php' | 'wasm' | 'command';

/** stem: a runtime not yet loaded with a function; paused and snapshotting come with snapshots (core/instance-state.ts) */
export type InstanceState =
  | 'starting'
  | 'stem'
  | 'loading'
  | 'ready'
  | 'busy'
  | 'pausing'
  | 'paused'
  | 'snapshotting'
  | 'stopping'
  | 'dead';

export type InvokeEvent = unknown;

export interface InvokeQuery {
  async?: 'true' | 'false';
  result?: 'true' | 'false';
}

export interface LoadReading {
  /** CPU time used since start */
  cpuMs: number;
  /** Cores the CPU utilisation is measured against */
  cpuCores: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  ioBytes: number | null;
  sampledAt: string;
}

export interface LoadReport {
  settings: LoadSettings;
  sampler: SamplerCost | null;
  instances: InstanceLoad[];
  workers: WorkerLoad[] | null;
}

export interface LoadSettings {
  intervalMs: number;
  /** ema = emaFactor·previous + (1 − emaFactor)·sample */
  emaFactor: number;
  weights: Utilisation;
  ioReferenceBytesPerSec: number;
  saturationScore: number;
}

export interface LoginResult {
  /** A session JWT: send it as `Authorization: Bearer <token>` */
  token: string;
  expiresAt: string;
}

export interface NameParams {
  name: string;
}

export interface NewApiKey {
  id: string;
  name: string;
  /** The first characters of the key, to recognise it */
  prefix: string;
  createdAt: string;
  /** The API key itself. It is shown only this once. */
  key: string;
}

/** No content */
export type NoContent = null;

/** The bytes, with the stored content type */
export type ObjectDownload = unknown;

export interface ObjectListParams {
  functionId: string;
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

export interface ObjectParams {
  functionId: string;
  name: string;
}

/** The object: any content type, streamed (or multipart/form-data with one file) */
export type ObjectUpload = unknown;

/** text/plain; version=0.0.4 */
export type PrometheusText = string;

export interface QueuedResponse {
  id: string;
  status: 'queued';
}

/** public: anyone; api_key: only with an API key of the function's owner */
export type RouteAuth = 'public' | 'api_key';

export interface RouteInput {
  /** GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY (any case) */
  method: string;
  /** e.g. /users/:id or /static/* (docs/gateway.md) */
  path: string;
  /** public (default) or api_key (an API key of the owner) */
  auth?: 'public' | 'api_key';
  eventShape?: 'http' | 'body' | null;
}

export interface RouteListItem {
  method: RouteMethod;
  path: string;
  /** public: anyone; api_key: only with an API key of the function's owner */
  auth: RouteAuth;
  /** What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md */
  eventShape?: EventShape;
  functionId: string;
  functionName: string;
}

export type RouteMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'ANY';

/** The language runtime (docs/runtimes.md) */
export type Runtime = 'node' | 'python' | 'php' | 'wasm' | 'command';

export interface RuntimeBinary {
  path: string;
  version: string;
}

export interface SamplerCost {
  ticks: number;
  meanTickMs: number;
  lastTickMs: number;
  lastInstances: number;
}

export interface SandboxCapabilities {
  driver: string;
  /** bubblewrap: namespaces and a read-only root; none: the operator opted out (SANDBOX=none) */
  isolation: 'bubblewrap' | 'none';
  /** False when instances cannot start: no bubblewrap and no opt-out, or the work directory is unreachable */
  usable: boolean;
  bwrap: {
    path: string;
    version: string;
    userNamespaces: boolean;
  } | null;
  /** Sandboxed processes run as a distinct host uid per instance */
  uidPerInstance: boolean;
  /** A seccomp filter denies kernel interfaces functions have no use for */
  seccomp: boolean;
  cgroup: CgroupCapabilities;
  memoryLimit: 'cgroup' | 'rss-watchdog';
  pidsLimit: 'cgroup' | 'rlimit-nproc' | 'pid-namespace-only';
  cpuLimit: 'cgroup' | 'none';
  /** The interpreter of each runtime this host can run; a missing one is unavailable */
  runtimes: {
    node?: RuntimeBinary;
    python?: RuntimeBinary;
    php?: RuntimeBinary;
    wasm?: RuntimeBinary;
    command?: RuntimeBinary;
  };
  warnings: string[];
}

export interface SecretCreate {
  name: string;
  /** Stored encrypted (AES-256-GCM); never returned by the API */
  value: string;
}

export interface SecretMeta {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface SecretUpdate {
  /** Stored encrypted (AES-256-GCM); never returned by the API */
  value: string;
}

export interface SeedDelete {
  name: string;
}

export interface SeedUpload {
  name?: string;
  /** The language runtime (docs/runtimes.md) */
  runtime?: Runtime;
  /** e.g. "index.handler" (node, php), "main.handler" (python); the module file for wasm ("main.wasm"), the file to run for command ("main.py"). See docs/runtimes.md */
  handler?: string;
  memoryMb?: number;
  cpuQuotaPercent?: number | null;
  /** Default 30000, 300000 for command functions; at most the server's MAX_TIMEOUT_SECONDS × 1000 */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Invocations one instance serves at once (default 1) */
  concurrency?: number;
  /** Most instances of one version at once (default 10) */
  maxInstances?: number;
  /** Attempts of an async invocation before dead-lettering (default 3) */
  maxAttempts?: number;
  /** Names of your secrets to inject as upper-cased environment variables */
  secrets?: string[];
  /** Pool policy of WebSocket stream instances (docs/streams.md); fields left out keep their value */
  stream?: {
    /** Idle stream instances kept ready while the function is streamed to (default 0) */
    minFree?: number;
    /** A stream instance idle this long is stopped (default 900000 = 15 min) */
    idleTimeoutMs?: number;
  };
  /** HTTP routes on the gateway that invoke the function; given, they replace its routes ([] removes them) */
  routes?: RouteInput[];
  /** Callable by anyone at /function/{name} on the gateway (public names are unique) */
  public?: boolean;
  /** What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md */
  eventShape?: EventShape;
  /** base64 of a .zip (or .tar.gz, .tar) of the folder */
  zip: string;
}

export interface StoredRoute {
  method: RouteMethod;
  path: string;
  /** public: anyone; api_key: only with an API key of the function's owner */
  auth: RouteAuth;
  /** What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md */
  eventShape?: EventShape;
}

export interface StreamInstance {
  id: string;
  state: 'busy' | 'idle';
  /** busy: when its session began; idle: when it was last used */
  since: string;
  /** Sessions the instance has served, the current one included */
  sessions: number;
}

export interface StreamPolicy {
  /** Idle stream instances kept ready while the function is streamed to (default 0) */
  minFree: number;
  /** A stream instance idle this long is stopped (default 900000 = 15 min) */
  idleTimeoutMs: number;
}

export interface StreamPool {
  version: number;
  policy: StreamPolicy;
  /** Instances being started (cold starts and minFree top-ups) */
  starting: number;
  instances: StreamInstance[];
}

export interface StreamSession {
  executionId: string;
  functionId: string;
  instanceId: string;
  startedAt: string;
  /** Client → function messages so far */
  messagesIn: number;
  /** Function → client messages so far */
  messagesOut: number;
  /** Bytes the platform holds for the session (bounded by the flow-control windows) */
  bufferedBytes: number;
  /** Bytes accepted for the client and not yet written to its socket */
  clientBufferedBytes: number;
}

export interface StreamStatus {
  /** One pool per function version that has stream instances */
  pools: StreamPool[];
  sessions: StreamSession[];
}

export interface SystemInfo {
  sandbox: SandboxCapabilities;
  /** process.version of the platform, e.g. v24.12.0 */
  node: string;
  /** <os>-<arch>, e.g. linux-x64 */
  platform: string;
  /** How the platform answering is laid out (docs/distributed.md) */
  topology: {
    /** embedded: every role in one process; distributed: roles in processes that meet on NATS and PostgreSQL */
    mode: 'embedded' | 'distributed';
    store: 'sqlite' | 'postgres';
    bus: 'memory' | 'nats';
    /** Every worker the registry knows (the embedded mode: this process) */
    workers: Array<{
      id: string;
      roles: string[];
      state: 'ready' | 'draining' | 'lost';
    }>;
  };
}

export interface User {
  id: string;
  username: string;
  /** The first user to register is admin */
  role: 'admin' | 'user';
  createdAt: string;
}

export interface Utilisation {
  cpu: number;
  memory: number;
  io: number;
}

export interface Worker {
  /** WORKER_ID (default <hostname>-<pid>) */
  id: string;
  roles: Array<'control' | 'gateway' | 'worker'>;
  /** ready: takes new work; draining: finishing what it runs, out of placement; lost: no heartbeat for 3 of its intervals */
  state: 'ready' | 'draining' | 'lost';
  host: string;
  pid: number;
  load: {
    /** The worker process's load score (docs/metrics.md) */
    score: number;
    saturated: boolean;
    /** EMA of CPU utilisation, 0..1 (0 before two samples) */
    cpu: number;
    memory: number;
    io: number;
  };
  capacity: {
    maxConcurrentExecutions: number;
    maxInstances: number;
  };
  /** Leases held over all its instances */
  inFlight: number;
  /** Invocations waiting for an instance */
  queued: number;
  /** Function instances it runs (stem cells not counted) */
  instances: number;
  lastHeartbeatAt: string;
  startedAt: string;
}

export interface WorkerList {
  workers: Worker[];
}

export interface WorkerLoad {
  /** WORKER_ID of the worker (default <hostname>-<pid>) */
  id: string;
  pid: number;
  cores: number;
  instances: number;
  stemCells: number;
  inFlight: number;
  raw: LoadReading | null;
  utilisation: Utilisation | null;
  ema: Utilisation | null;
  /** weights.cpu·ema.cpu + weights.memory·ema.memory + weights.io·ema.io */
  score: number;
  /** score >= settings.saturationScore */
  saturated: boolean;
}
