import type { ExecutionsTable } from './schema.ts';

/** Every column of `executions`, in table order (a compile-time check below keeps the list complete). */
export const EXECUTION_COLUMNS = [
  'id', 'owner_id', 'function_id', 'function_name', 'version', 'timeout_ms', 'mode', 'status', 'input', 'result', 'error', 'logs',
  'logs_truncated', 'duration_ms', 'cold_start', 'instance_id', 'attempts', 'max_attempts', 'available_at', 'lease_owner',
  'lease_expires_at', 'idempotency_key', 'request_hash', 'created_at', 'started_at', 'finished_at', 'worker_id',
] as const satisfies ReadonlyArray<keyof ExecutionsTable>;

type Missing = Exclude<keyof ExecutionsTable, (typeof EXECUTION_COLUMNS)[number]>;
export const columnsComplete: [Missing] extends [never] ? true : Missing = true;
