import { SkyscaleError } from './errors.ts';
import { Transport, type TransportOptions } from './http.ts';
import type {
  ApiKey, Execution, ExecutionLogs, ExecutionPage, ExecutionQuery, Exposure, ExposureUpdate, FunctionDeploy, FunctionInfo, FunctionSettings, FunctionVersion,
  HealthStatus, Instance, InvokeAsyncOptions, LoadReport, NewApiKey, ObjectMeta, Queued, RouteInfo, SecretMeta, Session, StreamStatus,
  SystemInfo, User, WaitOptions, Worker,
} from './types.ts';
import { openStreamSocket, type StreamConnection, type StreamOptions, type WebSocketConstructor } from './stream.ts';

export interface ClientOptions extends TransportOptions {
  /**
   * The gateway (data plane), where stream functions are served (ws:// or http://). Default: the
   * endpoint's host on port 8081, the default GATEWAY_PORT.
   */
  gatewayEndpoint?: string;
  /** WebSocket implementation for openStream(); default: the global WebSocket (Node ≥ 22). */
  WebSocket?: WebSocketConstructor;
}

const enc = encodeURIComponent;

/** Typed access to the Skyscale API. Credentials: an API key (`sk_…`) or a session token from login(). */
export class SkyscaleClient {
  readonly #http: Transport;
  readonly #options: ClientOptions;

  constructor(options: ClientOptions) {
    this.#http = new Transport(options);
    this.#options = options;
  }

  get endpoint(): string {
    return this.#http.endpoint;
  }

  // Accounts
  register(username: string, password: string): Promise<User> {
    return this.#http.request('POST', '/auth/register', { body: { username, password } });
  }
  login(username: string, password: string): Promise<Session> {
    return this.#http.request('POST', '/auth/login', { body: { username, password } });
  }
  me(): Promise<User> {
    return this.#http.request('GET', '/api/auth/me');
  }
  createApiKey(name?: string): Promise<NewApiKey> {
    return this.#http.request('POST', '/api/auth/api-key', { body: name === undefined ? {} : { name } });
  }
  async listApiKeys(): Promise<ApiKey[]> {
    return (await this.#http.request<{ items: ApiKey[] }>('GET', '/api/auth/api-keys')).items;
  }
  revokeApiKey(id: string): Promise<void> {
    return this.#http.request('DELETE', `/api/auth/api-keys/${enc(id)}`);
  }
  async listUsers(): Promise<User[]> {
    return (await this.#http.request<{ items: User[] }>('GET', '/api/users')).items;
  }
  getUser(id: string): Promise<User> {
    return this.#http.request('GET', `/api/users/${enc(id)}`);
  }

  // Functions
  async listFunctions(): Promise<FunctionInfo[]> {
    return (await this.#http.request<{ items: FunctionInfo[] }>('GET', '/api/functions')).items;
  }
  createFunction(deploy: FunctionDeploy): Promise<FunctionInfo> {
    return this.#http.request('POST', '/api/functions', { body: deploy });
  }
  /** Deploys a .tar.gz or .zip bundle with its settings (multipart upload). */
  deployBundle(settings: FunctionSettings, bundle: Blob | Uint8Array, filename = 'code.tar.gz'): Promise<FunctionInfo> {
    return this.#http.request('POST', '/api/functions', { form: bundleForm(settings, bundle, filename) });
  }
  getFunction(id: string): Promise<FunctionInfo> {
    return this.#http.request('GET', `/api/functions/${enc(id)}`);
  }
  getFunctionByName(name: string): Promise<FunctionInfo> {
    return this.#http.request('GET', `/api/functions/name/${enc(name)}`);
  }
  updateFunction(id: string, deploy: FunctionDeploy): Promise<FunctionInfo> {
    return this.#http.request('PUT', `/api/functions/${enc(id)}`, { body: deploy });
  }
  updateFunctionBundle(id: string, settings: FunctionSettings, bundle: Blob | Uint8Array, filename = 'code.tar.gz'): Promise<FunctionInfo> {
    return this.#http.request('PUT', `/api/functions/${enc(id)}`, { form: bundleForm(settings, bundle, filename) });
  }
  deleteFunction(id: string): Promise<void> {
    return this.#http.request('DELETE', `/api/functions/${enc(id)}`);
  }
  async listVersions(id: string): Promise<FunctionVersion[]> {
    return (await this.#http.request<{ items: FunctionVersion[] }>('GET', `/api/functions/${enc(id)}/versions`)).items;
  }

  /** Sets a function's gateway routes (given, they replace its routes) and/or public flag; no new version, live at once. */
  setRoutes(id: string, change: ExposureUpdate): Promise<Exposure> {
    return this.#http.request('PUT', `/api/functions/${enc(id)}/routes`, { body: change });
  }

  /** Every gateway route of your functions. */
  async listRoutes(): Promise<RouteInfo[]> {
    return (await this.#http.request<{ items: RouteInfo[] }>('GET', '/api/routes')).items;
  }

  // Invocation
  /** Runs a function and waits for its execution record. */
  invoke(fn: { id: string } | { name: string }, event?: unknown): Promise<Execution> {
    return this.#http.request('POST', `${functionPath(fn)}/invoke`, { body: event ?? null });
  }
  /** Queues a function run; poll getExecution() or waitForExecution() for the outcome. */
  invokeAsync(fn: { id: string } | { name: string }, event?: unknown, options: InvokeAsyncOptions = {}): Promise<Queued> {
    const headers: Record<string, string> = { 'x-invocation-type': 'async' };
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    return this.#http.request('POST', `${functionPath(fn)}/invoke`, { body: event ?? null, headers });
  }
  /**
   * Opens a WebSocket session with a stream function: the function's `stream(messages, send, context)`
   * runs on an instance of its own until either side closes (docs/streams.md). Sends the API key if the
   * client has one (a session token is not accepted there); without one only public functions answer.
   */
  openStream(name: string, options: StreamOptions = {}): Promise<StreamConnection> {
    const base = (this.#options.gatewayEndpoint ?? defaultGateway(this.endpoint)).replace(/^http/, 'ws').replace(/\/+$/, '');
    const sub = options.path === undefined || options.path === '/' ? '' : `/${options.path.replace(/^\/+/, '')}`;
    const query = options.query === undefined ? '' : `?${new URLSearchParams(options.query)}`;
    const headers: Record<string, string> = { ...options.headers };
    if (this.#options.apiKey !== undefined) headers['x-api-key'] = this.#options.apiKey;
    const Impl = this.#options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketConstructor | undefined);
    if (Impl === undefined) throw new SkyscaleError(0, 'UNSUPPORTED', 'No WebSocket implementation: pass options.WebSocket (e.g. the ws package)');
    return openStreamSocket(Impl, `${base}/ws/${enc(name)}${sub}${query}`, headers);
  }
  /** The stream instances (busy / idle per version) and open sessions of a function. */
  streamStatus(functionId: string): Promise<StreamStatus> {
    return this.#http.request('GET', `/api/functions/${enc(functionId)}/streams`);
  }
  getExecution(id: string): Promise<Execution> {
    return this.#http.request('GET', `/api/executions/${enc(id)}`);
  }
  async waitForExecution(id: string, options: WaitOptions = {}): Promise<Execution> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const execution = await this.getExecution(id);
      if (execution.status !== 'queued' && execution.status !== 'running') return execution;
      if (Date.now() > deadline) return execution;
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
    }
  }
  listExecutions(query: ExecutionQuery = {}): Promise<ExecutionPage> {
    return this.#http.request('GET', '/api/executions', { query });
  }
  listFunctionExecutions(functionId: string, query: Omit<ExecutionQuery, 'functionId'> = {}): Promise<ExecutionPage> {
    return this.#http.request('GET', `/api/executions/function/${enc(functionId)}`, { query });
  }
  getExecutionLogs(id: string): Promise<ExecutionLogs> {
    return this.#http.request('GET', `/api/executions/${enc(id)}/logs`);
  }

  // Secrets (values go in; only metadata comes back)
  createSecret(name: string, value: string): Promise<SecretMeta> {
    return this.#http.request('POST', '/api/secrets', { body: { name, value } });
  }
  async listSecrets(): Promise<SecretMeta[]> {
    return (await this.#http.request<{ items: SecretMeta[] }>('GET', '/api/secrets')).items;
  }
  getSecret(id: string): Promise<SecretMeta> {
    return this.#http.request('GET', `/api/secrets/${enc(id)}`);
  }
  updateSecret(id: string, value: string): Promise<SecretMeta> {
    return this.#http.request('PUT', `/api/secrets/${enc(id)}`, { body: { value } });
  }
  deleteSecret(id: string): Promise<void> {
    return this.#http.request('DELETE', `/api/secrets/${enc(id)}`);
  }

  // Function objects
  putObject(functionId: string, name: string, data: Blob | Uint8Array | string, contentType = 'application/octet-stream'): Promise<ObjectMeta> {
    return this.#http.request('PUT', `/api/function-objects/${enc(functionId)}/${enc(name)}`, { raw: false, bytes: data, headers: { 'content-type': contentType } });
  }
  async getObject(functionId: string, name: string): Promise<Uint8Array> {
    return this.#http.request('GET', `/api/function-objects/${enc(functionId)}/${enc(name)}`, { binary: true });
  }
  async listObjects(functionId: string): Promise<ObjectMeta[]> {
    return (await this.#http.request<{ items: ObjectMeta[] }>('GET', `/api/function-objects/${enc(functionId)}`)).items;
  }
  deleteObject(functionId: string, name: string): Promise<void> {
    return this.#http.request('DELETE', `/api/function-objects/${enc(functionId)}/${enc(name)}`);
  }

  // Instances and health
  async listVms(): Promise<Instance[]> {
    return (await this.#http.request<{ items: Instance[] }>('GET', '/api/vms')).items;
  }
  getVm(id: string): Promise<Instance> {
    return this.#http.request('GET', `/api/vms/${enc(id)}`);
  }
  /** Live load values (CPU, memory, I/O, smoothed score) that placement uses. */
  workerLoad(): Promise<LoadReport> {
    return this.#http.request('GET', '/api/v1/metrics/workers');
  }
  /** The workers of the cluster from their heartbeats: state, load, capacity (admins only). */
  async listWorkers(): Promise<Worker[]> {
    return (await this.#http.request<{ workers: Worker[] }>('GET', '/api/v1/workers')).workers;
  }
  /** What this host's sandbox supports: isolation, cgroup limits, the runtimes it can run. */
  system(): Promise<SystemInfo> {
    return this.#http.request('GET', '/api/v1/system');
  }
  health(): Promise<HealthStatus> {
    return this.#http.request('GET', '/healthz');
  }
}

/** The control endpoint's host on the default GATEWAY_PORT. */
function defaultGateway(endpoint: string): string {
  const url = new URL(endpoint);
  url.port = '8081';
  return url.origin;
}

function functionPath(fn: { id: string } | { name: string }): string {
  return 'id' in fn ? `/api/functions/${enc(fn.id)}` : `/api/functions/name/${enc(fn.name)}`;
}

function bundleForm(settings: FunctionSettings, bundle: Blob | Uint8Array, filename: string): FormData {
  const form = new FormData();
  form.set('metadata', JSON.stringify(settings));
  const blob = bundle instanceof Blob ? bundle : new Blob([bundle as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  form.set('bundle', blob, filename);
  return form;
}
