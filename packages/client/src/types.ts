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
  mode: 'sync' | 'async';
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
