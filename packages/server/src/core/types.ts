/** Domain types shared by services, the API and the store. Store rows are mapped to these. */
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

export interface FunctionConfig {
  runtime: Runtime;
  handler: string;
  memoryMb: number;
  timeoutMs: number;
  env: Record<string, string>;
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

/** Who is making a request: resolved once by the auth hook. */
export interface Principal {
  userId: string;
  role: Role;
  via: 'jwt' | 'api_key';
}
