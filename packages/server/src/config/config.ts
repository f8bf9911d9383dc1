import os from 'node:os';
import path from 'node:path';
import { parseMasterKey } from './keys.ts';
import { autoscalerSettings, busConfig, clusterSettings, roles, workerSettings, type ServeFlags } from './distributed.ts';
import { ConfigError, decimal, integer, oneOf, text, type Env } from './parse.ts';
import { DEFAULT_CONNECTION_LIMITS, DEFAULT_CPU_QUOTA, DEFAULT_HOST_API_LIMITS, DEFAULT_LOAD_SETTINGS, DEFAULT_OWNER_SHARE, type ConnectionLimits, type CpuQuotaPolicy, type HostApiLimits, type LoadSettings, type Role, type StoreConfig, type StreamLimits, type WorkerSettings, type AutoscalerSettings, type ClusterSettings, type BusConfig } from './options.ts';

export { ConfigError };

/**
 * Configuration comes from the environment, is validated once at start and then frozen.
 * A bad value fails start-up with a message that names the variable.
 */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly gatewayPort: number;
  readonly dataDir: string;
  readonly dbPath: string;
  /** Where metadata and executions live: the embedded SQLite file (PostgreSQL comes with distributed mode). */
  readonly store: StoreConfig;
  /** How components reach each other: in-process, or NATS with JetStream when NATS_URL is set (bus/index.ts). */
  readonly bus: BusConfig;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly warmPoolSize: number;
  /** Pre-admitted sandbox launchers kept ready for cold starts (docs/sandbox.md). */
  readonly sandboxLaunchers: number;
  readonly signup: 'open' | 'closed';
  /** HS256 signing secret for session tokens; generated into DATA_DIR when not given. */
  readonly jwtSecret: string | undefined;
  readonly tokenTtlSeconds: number;
  readonly maxBodyBytes: number;
  readonly maxBundleBytes: number;
  readonly maxBundleFiles: number;
  readonly loginMaxAttempts: number;
  readonly loginWindowSeconds: number;
  /** Failed API keys and session tokens per client address (IPv6: per /64) before 429 (docs/api.md). */
  readonly credentialMaxFailures: number;
  readonly credentialWindowSeconds: number;
  /** `process` (bubblewrap sandboxes) or `none` (operator opt-out: code runs unsandboxed). */
  readonly sandbox: 'process' | 'none';
  /** php-cli for PHP functions (PHP_PATH); without a working one the php runtime is unavailable. */
  readonly phpPath: string;
  /** bubblewrap (BWRAP_PATH); unset = the first `bwrap` on PATH, then /usr/bin and /usr/local/bin. */
  readonly bwrapPath: string | undefined;
  /** The sandboxes' work dir (SANDBOX_DIR); unset = the driver's default (docs/sandbox.md). */
  readonly sandboxDir: string | undefined;
  readonly instanceIdleTtlSeconds: number;
  readonly maxInstances: number;
  readonly maxQueuedPerFunction: number;
  /** Sync invocations waiting for an instance on this server, all functions together (MAX_QUEUED). */
  readonly maxQueued: number;
  /** The most of MAX_INSTANCES, MAX_QUEUED and ASYNC_CONCURRENCY one owner may hold (MAX_OWNER_SHARE). */
  readonly ownerShare: number;
  readonly asyncConcurrency: number;
  /** Each instance's CPU quota: derived from its memory, bounded, or the function's own within the bounds (docs/sandbox.md#cpu). */
  readonly cpuQuota: CpuQuotaPolicy;
  readonly asyncRetryBaseMs: number;
  /** Memory for finished sync records the database does not take yet; past it sync invocations answer 503. */
  readonly syncRecordsBufferBytes: number;
  /** AES-256-GCM master key for secrets at rest; generated into DATA_DIR when not given. */
  readonly secretsKey: Buffer | undefined;
  readonly maxObjectBytes: number;
  /** The longest timeout a function may be deployed with (MAX_TIMEOUT_SECONDS, at most 15 minutes). */
  readonly maxTimeoutMs: number;
  /** Load sampling, smoothing and the placement score (docs/metrics.md). */
  readonly load: LoadSettings;
  /** Who may read GET /metrics: admins or METRICS_TOKEN (`token`), also any loopback client, or anyone. */
  readonly metricsAccess: 'token' | 'loopback' | 'open';
  readonly metricsToken: string | undefined;
  /** WebSocket stream sessions (docs/streams.md). */
  readonly stream: StreamLimits;
  /** Timeouts and connection caps of each public port (docs/limits.md). */
  readonly connections: ConnectionLimits;
  /** Connections functions may hold to their host API (docs/limits.md). */
  readonly hostApi: HostApiLimits;
  /** The roles this process runs (`--role`, SKYSCALE_ROLES); empty = every role in one process, embedded. */
  readonly roles: readonly Role[];
  /** This process as a worker node in distributed mode (docs/deploy.md). */
  readonly worker: WorkerSettings;
  /** The queue-depth autoscaler of distributed mode (docs/deploy.md). */
  readonly autoscaler: AutoscalerSettings;
  /** Leases and the reaper of distributed mode (docs/distributed.md). */
  readonly distributed: ClusterSettings;
}

function loadSettings(env: Env): LoadSettings {
  const d = DEFAULT_LOAD_SETTINGS;
  const weights = {
    cpu: decimal(env, 'LOAD_WEIGHT_CPU', d.weights.cpu, 0, 1),
    memory: decimal(env, 'LOAD_WEIGHT_MEMORY', d.weights.memory, 0, 1),
    io: decimal(env, 'LOAD_WEIGHT_IO', d.weights.io, 0, 1),
  };
  const sum = weights.cpu + weights.memory + weights.io;
  if (Math.abs(sum - 1) > 1e-6) throw new ConfigError('LOAD_WEIGHT_CPU + LOAD_WEIGHT_MEMORY + LOAD_WEIGHT_IO', `must sum to 1 (so the score stays in 0..1), got ${Number(sum.toFixed(6))}`);
  const emaFactor = decimal(env, 'LOAD_EMA_FACTOR', d.emaFactor, 0, 0.99);
  const saturationScore = decimal(env, 'LOAD_SATURATION_SCORE', d.saturationScore, 0.01, 1);
  return Object.freeze({
    intervalMs: integer(env, 'LOAD_SAMPLE_INTERVAL_MS', d.intervalMs, 50, 60_000),
    emaFactor,
    weights: Object.freeze(weights),
    ioReferenceBytesPerSec: integer(env, 'LOAD_IO_REFERENCE_MB_PER_SEC', d.ioReferenceBytesPerSec / (1024 * 1024), 1, 1_000_000) * 1024 * 1024,
    saturationScore,
  });
}

function cpuQuota(env: Env): CpuQuotaPolicy {
  const minPercent = integer(env, 'MIN_CPU_QUOTA_PERCENT', DEFAULT_CPU_QUOTA.minPercent, 1, 100_000);
  const maxPercent = integer(env, 'MAX_CPU_QUOTA_PERCENT', 100 * os.availableParallelism(), 1, 100_000);
  if (maxPercent < minPercent) throw new ConfigError('MAX_CPU_QUOTA_PERCENT', `must be at least MIN_CPU_QUOTA_PERCENT (${minPercent}), got ${maxPercent}`);
  return Object.freeze({ mbPerCore: integer(env, 'CPU_MB_PER_CORE', DEFAULT_CPU_QUOTA.mbPerCore, 16, 1_000_000), minPercent, maxPercent });
}

function connectionLimits(env: Env): ConnectionLimits {
  const d = DEFAULT_CONNECTION_LIMITS;
  const limits = {
    headersTimeoutMs: integer(env, 'HTTP_HEADERS_TIMEOUT_MS', d.headersTimeoutMs, 100, 600_000),
    requestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 100, 3_600_000),
    keepAliveTimeoutMs: integer(env, 'HTTP_KEEPALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 100, 600_000),
    sendTimeoutMs: integer(env, 'HTTP_SEND_TIMEOUT_MS', d.sendTimeoutMs, 100, 3_600_000),
    maxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
    maxConnectionsPerAddress: integer(env, 'HTTP_MAX_CONNECTIONS_PER_ADDRESS', d.maxConnectionsPerAddress, 1, 1_000_000),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs}), got ${limits.headersTimeoutMs}`);
  return Object.freeze(limits);
}

function hostApiLimits(env: Env): HostApiLimits {
  const d = DEFAULT_HOST_API_LIMITS;
  return Object.freeze({
    maxConnectionsPerInstance: integer(env, 'HOST_API_MAX_CONNECTIONS_PER_INSTANCE', d.maxConnectionsPerInstance, 1, 1024),
    maxConnectionsPerOwner: integer(env, 'HOST_API_MAX_CONNECTIONS_PER_OWNER', d.maxConnectionsPerOwner, 1, 1_000_000),
  });
}

function metricsToken(env: Env): string | undefined {
  const token = env.METRICS_TOKEN?.trim() || undefined;
  if (token !== undefined && (token.length < 24 || !/^[\x21-\x7e]+$/.test(token))) throw new ConfigError('METRICS_TOKEN', 'must be at least 24 printable ASCII characters without spaces');
  return token;
}

function secretsKey(env: Env): Buffer | undefined {
  const raw = env.SECRETS_KEY;
  if (raw === undefined || raw.trim() === '') return undefined;
  const key = parseMasterKey(raw);
  if (key === undefined) throw new ConfigError('SECRETS_KEY', 'must be 32 bytes as 64 hex characters or base64');
  return key;
}

/** PostgreSQL when DATABASE_URL is set, else the SQLite file at DB_PATH. */
function storeConfig(env: Env, dbPath: string): StoreConfig {
  const poolSize = integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000);
  const url = env.DATABASE_URL?.trim();
  if (url === undefined || url === '') return Object.freeze({ kind: 'sqlite', path: dbPath });
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !['postgres:', 'postgresql:'].includes(parsed.protocol) || parsed.hostname === '') {
    throw new ConfigError('DATABASE_URL', 'must be a PostgreSQL URL, postgres://user:password@host:5432/database (unset it to use SQLite at DB_PATH)');
  }
  return Object.freeze({ kind: 'postgres', url, poolSize });
}

export function loadConfig(env: Env = process.env, flags: ServeFlags = {}): Config {
  const dataDir = path.resolve(text(env, 'DATA_DIR', './data'));
  const jwtSecret = env.JWT_SECRET?.trim() || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 characters long');
  const dbPath = path.resolve(dataDir, text(env, 'DB_PATH', path.join(dataDir, 'skyscale.db')));
  const config: Config = {
    host: text(env, 'HOST', '127.0.0.1'),
    port: integer(env, 'PORT', 8080, 0, 65535),
    gatewayPort: integer(env, 'GATEWAY_PORT', 8081, 0, 65535),
    dataDir,
    dbPath,
    store: storeConfig(env, dbPath),
    bus: busConfig(env),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    warmPoolSize: integer(env, 'WARM_POOL_SIZE', 5, 0, 1000),
    sandboxLaunchers: integer(env, 'SANDBOX_LAUNCHERS', 2, 0, 64),
    signup: oneOf(env, 'SIGNUP', 'open', ['open', 'closed'] as const),
    jwtSecret,
    tokenTtlSeconds: integer(env, 'TOKEN_TTL_SECONDS', 24 * 3600, 60, 90 * 24 * 3600),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 6 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxBundleBytes: integer(env, 'MAX_BUNDLE_BYTES', 50 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxBundleFiles: integer(env, 'MAX_BUNDLE_FILES', 5000, 1, 1_000_000),
    loginMaxAttempts: integer(env, 'LOGIN_MAX_ATTEMPTS', 5, 1, 10_000),
    loginWindowSeconds: integer(env, 'LOGIN_WINDOW_SECONDS', 60, 1, 86_400),
    credentialMaxFailures: integer(env, 'CREDENTIAL_MAX_FAILURES', 20, 1, 100_000),
    credentialWindowSeconds: integer(env, 'CREDENTIAL_WINDOW_SECONDS', 60, 1, 86_400),
    sandbox: oneOf(env, 'SANDBOX', 'process', ['process', 'none'] as const),
    phpPath: path.resolve(text(env, 'PHP_PATH', '/usr/bin/php')),
    bwrapPath: env.BWRAP_PATH?.trim() ? path.resolve(env.BWRAP_PATH.trim()) : undefined,
    sandboxDir: env.SANDBOX_DIR?.trim() ? path.resolve(env.SANDBOX_DIR.trim()) : undefined,
    instanceIdleTtlSeconds: integer(env, 'INSTANCE_IDLE_TTL_SECONDS', 300, 1, 86_400),
    maxInstances: integer(env, 'MAX_INSTANCES', 64, 1, 10_000),
    maxQueuedPerFunction: integer(env, 'MAX_QUEUED_PER_FUNCTION', 2000, 0, 1_000_000),
    maxQueued: integer(env, 'MAX_QUEUED', 10_000, 0, 1_000_000),
    ownerShare: decimal(env, 'MAX_OWNER_SHARE', DEFAULT_OWNER_SHARE, 0.01, 1),
    asyncConcurrency: integer(env, 'ASYNC_CONCURRENCY', 8, 1, 1000),
    cpuQuota: cpuQuota(env),
    asyncRetryBaseMs: integer(env, 'ASYNC_RETRY_BASE_MS', 1000, 1, 3_600_000),
    syncRecordsBufferBytes: integer(env, 'SYNC_RECORDS_BUFFER_MB', 64, 1, 64 * 1024) * 1024 * 1024,
    secretsKey: secretsKey(env),
    maxObjectBytes: integer(env, 'MAX_OBJECT_BYTES', 100 * 1024 * 1024, 1, 64 * 1024 * 1024 * 1024),
    maxTimeoutMs: integer(env, 'MAX_TIMEOUT_SECONDS', 900, 1, 900) * 1000,
    load: loadSettings(env),
    metricsAccess: oneOf(env, 'METRICS_ACCESS', 'token', ['token', 'loopback', 'open'] as const),
    metricsToken: metricsToken(env),
    stream: Object.freeze({
      maxDurationMs: integer(env, 'STREAM_MAX_SECONDS', 24 * 3600, 1, 30 * 24 * 3600) * 1000,
      endGraceMs: integer(env, 'STREAM_END_GRACE_MS', 5000, 0, 600_000),
      maxMessageBytes: integer(env, 'STREAM_MAX_MESSAGE_BYTES', 1024 * 1024, 1024, 4 * 1024 * 1024),
    }),
    connections: connectionLimits(env),
    hostApi: hostApiLimits(env),
    roles: roles(env, flags),
    worker: workerSettings(env),
    autoscaler: autoscalerSettings(env),
    distributed: clusterSettings(env),
  };
  return Object.freeze(config);
}
