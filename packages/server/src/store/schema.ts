import type { Generated } from 'kysely';


/** Table shapes as stored. JSON columns hold text; repositories parse them. */
export interface UsersTable {
  id: string;
  username: string;
  password_hash: string;
  role: 'admin' | 'user';
  created_at: string;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface FunctionsTable {
  id: string;
  owner_id: string;
  name: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface FunctionVersionsTable {
  id: string;
  function_id: string;
  version: number;
  runtime: string;
  handler: string;
  memory_mb: number;
  /** The version's own CPU quota in percent of a core; null: derived from memory_mb by the worker. */
  cpu_quota_percent: number | null;
  timeout_ms: number;
  env: string;
  code_hash: string;
  code_source: 'inline' | 'files' | 'bundle';
  code_size: number;
  concurrency: number;
  max_instances: number;
  max_attempts: number;
  /** JSON array of the secret names the function declares. */
  secrets: string;
  stream_min_free: number;
  stream_idle_timeout_ms: number;
  /** What the gateway sends the function: 'http' (the request) or 'body' (its payload). */
  event_shape: string;
  created_at: string;
}


export interface SecretsTable {
  id: string;
  owner_id: string;
  name: string;
  /** lower-case name: secret names are unique per owner regardless of case. */
  name_key: string;
  /** base64 of iv (12) ‖ tag (16) ‖ AES-256-GCM ciphertext. */
  ciphertext: string;
  created_at: string;
  updated_at: string;
}

export interface FunctionObjectsTable {
  /** Also the object's file name on disk: the user's name for it is never used as a path. */
  id: string;
  owner_id: string;
  function_id: string;
  name: string;
  size: number;
  content_type: string;
  sha256: string;
  created_at: string;
  updated_at: string;
}

export interface ExecutionsTable {
  id: string;
  owner_id: string;
  function_id: string;
  function_name: string;
  version: number;
  timeout_ms: number;
  mode: 'sync' | 'async' | 'stream';
  status: string;
  input: string;
  result: string | null;
  error: string | null;
  logs: string;
  logs_truncated: number;
  duration_ms: number | null;
  cold_start: number | null;
  instance_id: string | null;
  /** WORKER_ID of the worker that ran it (migration 012). */
  worker_id: string | null;
  attempts: number;
  max_attempts: number;
  /** Epoch ms from which a queued execution may be leased (retry backoff). */
  available_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface FunctionRoutesTable {
  id: string;
  function_id: string;
  owner_id: string;
  method: string;
  /** The pattern as declared, e.g. /users/:id. */
  path: string;
  /** The pattern with parameter names erased (/users/:): equal shapes match the same requests. */
  shape: string;
  auth: string;
  /** The route's own event shape; null: the function's. */
  event_shape: string | null;
  created_at: string;
}

export interface PublicFunctionsTable {
  /** The lower-cased name: unique among public functions regardless of case. */
  name_key: string;
  /** The function's name: /function/{name} on the gateway resolves it. */
  name: string;
  function_id: string;
  owner_id: string;
  created_at: string;
}

export interface GatewayStateTable {
  id: number;
  /** Bumped in the same transaction as every change of routes or public names; gateways poll it. */
  generation: number;
}

/** Messages written in the same transaction as the change they announce; a relay publishes and deletes them. */
export interface OutboxTable {
  id: Generated<number>;
  subject: string;
  payload: string;
  /** Epoch ms. */
  created_at: number;
}

export interface Database {
  outbox: OutboxTable;
  function_routes: FunctionRoutesTable;
  public_functions: PublicFunctionsTable;
  gateway_state: GatewayStateTable;
  function_objects: FunctionObjectsTable;
  secrets: SecretsTable;
  executions: ExecutionsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  functions: FunctionsTable;
  function_versions: FunctionVersionsTable;
}
