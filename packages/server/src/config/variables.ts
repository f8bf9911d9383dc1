/**
 * Every environment variable loadConfig reads, in the order of the README's configuration table.
 * Tests hold three things to it: loadConfig reads exactly these, the README's table documents exactly
 * these, and the deploy files (deploy/) set no other. A branch that makes config.ts read a new variable
 * adds it here and to the table.
 */
export const PLATFORM_VARIABLES: readonly string[] = Object.freeze([
  'PORT', 'GATEWAY_PORT', 'HOST', 'DATA_DIR', 'DB_PATH', 'LOG_LEVEL', 'WARM_POOL_SIZE', 'SANDBOX_LAUNCHERS',
  'SIGNUP', 'JWT_SECRET', 'TOKEN_TTL_SECONDS', 'MAX_BODY_BYTES', 'MAX_BUNDLE_BYTES', 'MAX_BUNDLE_FILES',
  'LOGIN_MAX_ATTEMPTS', 'LOGIN_WINDOW_SECONDS', 'CREDENTIAL_MAX_FAILURES', 'CREDENTIAL_WINDOW_SECONDS',
  'PHP_PATH', 'BWRAP_PATH', 'SANDBOX_DIR', 'SANDBOX', 'INSTANCE_IDLE_TTL_SECONDS', 'MAX_INSTANCES',
  'MAX_QUEUED_PER_FUNCTION', 'CPU_MB_PER_CORE', 'MIN_CPU_QUOTA_PERCENT', 'MAX_CPU_QUOTA_PERCENT', 'MAX_QUEUED',
  'MAX_OWNER_SHARE', 'ASYNC_CONCURRENCY', 'SECRETS_KEY', 'MAX_OBJECT_BYTES', 'MAX_TIMEOUT_SECONDS',
  'ASYNC_RETRY_BASE_MS', 'SYNC_RECORDS_BUFFER_MB', 'LOAD_SAMPLE_INTERVAL_MS', 'LOAD_EMA_FACTOR',
  'LOAD_WEIGHT_CPU', 'LOAD_WEIGHT_MEMORY', 'LOAD_WEIGHT_IO', 'LOAD_IO_REFERENCE_MB_PER_SEC',
  'LOAD_SATURATION_SCORE', 'METRICS_ACCESS', 'METRICS_TOKEN', 'STREAM_MAX_SECONDS', 'STREAM_END_GRACE_MS',
  'STREAM_MAX_MESSAGE_BYTES', 'HTTP_HEADERS_TIMEOUT_MS', 'HTTP_REQUEST_TIMEOUT_MS', 'HTTP_KEEPALIVE_TIMEOUT_MS',
  'HTTP_SEND_TIMEOUT_MS', 'HTTP_MAX_CONNECTIONS', 'HTTP_MAX_CONNECTIONS_PER_ADDRESS',
  'HOST_API_MAX_CONNECTIONS_PER_INSTANCE', 'HOST_API_MAX_CONNECTIONS_PER_OWNER', 'DATABASE_URL', 'DATABASE_POOL_SIZE',
  // distributed mode (docs/deploy.md)
  'SKYSCALE_ROLES', 'WORKER_ID', 'MAX_CONCURRENT_EXECUTIONS', 'HEARTBEAT_INTERVAL_MS', 'LEASE_TIMEOUT', 'REAPER_INTERVAL', 'MIN_WORKERS', 'MAX_WORKERS',
  'SCALE_UP_THRESHOLD', 'SCALE_DOWN_THRESHOLD', 'CHECK_INTERVAL', 'COOLDOWN_PERIOD', 'AUTOSCALER_ACTUATOR',
  'AUTOSCALER_COMMAND', 'K8S_NAMESPACE', 'K8S_DEPLOYMENT', 'NATS_URL',
]);

/**
 * Variables the deploy files already set that config.ts does not read yet: distributed mode's store and
 * bus, being built on their own branches (issue 12). The branch that reads one moves it into
 * PLATFORM_VARIABLES (a test fails while a variable is in both, or read and still here).
 */
export const ANNOUNCED_VARIABLES: readonly string[] = Object.freeze([]);

/** What a deploy file may set for a platform container. */
export const DEPLOYABLE_VARIABLES: readonly string[] = Object.freeze([...PLATFORM_VARIABLES, ...ANNOUNCED_VARIABLES]);
