

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
  timeout_ms: number;
  env: string;
  code_hash: string;
  code_source: 'inline' | 'files' | 'bundle';
  code_size: number;
  created_at: string;
}


export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  functions: FunctionsTable;
  function_versions: FunctionVersionsTable;
}
