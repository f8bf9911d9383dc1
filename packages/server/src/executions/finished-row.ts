import type { InvocationResult } from '../core/invocation.ts';
import type { FunctionRecord } from '../core/types.ts';
import type { ExecutionRow } from '../store/executions.ts';

/** The row of an execution that ran once, outside the async queue (a sync call or a stream session). */
export function finishedExecutionRow(fn: FunctionRecord, r: {
  id: string;
  mode: 'sync' | 'stream';
  timeoutMs: number;
  input: string;
  outcome: InvocationResult;
  /** The result already serialised, when the caller has it (the hot path serialises once). */
  resultJson?: string;
  createdAt: string;
  finishedAt: string;
}): ExecutionRow {
  const { outcome } = r;
  return {
    id: r.id,
    owner_id: fn.ownerId,
    function_id: fn.id,
    function_name: fn.name,
    version: fn.version,
    timeout_ms: r.timeoutMs,
    mode: r.mode,
    status: outcome.status,
    input: r.input,
    result: outcome.result === undefined ? null : (r.resultJson ?? JSON.stringify(outcome.result)),
    error: outcome.error === null ? null : JSON.stringify(outcome.error),
    logs: outcome.logs,
    logs_truncated: outcome.logsTruncated ? 1 : 0,
    duration_ms: outcome.durationMs,
    cold_start: outcome.coldStart ? 1 : 0,
    instance_id: outcome.instanceId,
    attempts: 1,
    max_attempts: 1,
    available_at: 0,
    lease_owner: null,
    lease_expires_at: null,
    idempotency_key: null,
    request_hash: null,
    created_at: r.createdAt,
    started_at: r.createdAt,
    finished_at: r.finishedAt,
  };
}
