import { Transport, type TransportOptions } from './http.ts';
import type {
  ApiKey, Execution, ExecutionLogs, ExecutionStatus, FunctionDeploy, FunctionInfo, FunctionSettings, FunctionVersion,
  Instance, LoadReport, NewApiKey, ObjectMeta, Page, Queued, SecretMeta, Session, User,
} from './types.ts';

export type ClientOptions = TransportOptions;

const enc = encodeURIComponent;

/** Typed access to the Skyscale API. Credentials: an API key (`sk_…`) or a session token from login(). */
export class SkyscaleClient {
  readonly #http: Transport;

  constructor(options: ClientOptions) {
    this.#http = new Transport(options);
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

  // Invocation
  /** Runs a function and waits for its execution record. */
  invoke(fn: { id: string } | { name: string }, event?: unknown): Promise<Execution> {
    return this.#http.request('POST', `${functionPath(fn)}/invoke`, { body: event ?? null });
  }
  /** Queues a function run; poll getExecution() or waitForExecution() for the outcome. */
  invokeAsync(fn: { id: string } | { name: string }, event?: unknown, options: { idempotencyKey?: string } = {}): Promise<Queued> {
    const headers: Record<string, string> = { 'x-invocation-type': 'async' };
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    return this.#http.request('POST', `${functionPath(fn)}/invoke`, { body: event ?? null, headers });
  }
  getExecution(id: string): Promise<Execution> {
    return this.#http.request('GET', `/api/executions/${enc(id)}`);
  }
  async waitForExecution(id: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<Execution> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      const execution = await this.getExecution(id);
      if (execution.status !== 'queued' && execution.status !== 'running') return execution;
      if (Date.now() > deadline) return execution;
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
    }
  }
  listExecutions(query: { status?: ExecutionStatus; functionId?: string; cursor?: string; limit?: number } = {}): Promise<Page<Execution>> {
    return this.#http.request('GET', '/api/executions', { query });
  }
  listFunctionExecutions(functionId: string, query: { status?: ExecutionStatus; cursor?: string; limit?: number } = {}): Promise<Page<Execution>> {
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
  system(): Promise<Record<string, unknown>> {
    return this.#http.request('GET', '/api/v1/system');
  }
  health(): Promise<{ status: string }> {
    return this.#http.request('GET', '/healthz');
  }
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
