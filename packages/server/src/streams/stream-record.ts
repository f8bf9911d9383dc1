import { nowIso } from '../core/ids.ts';
import type { InvocationResult } from '../core/invoker.ts';
import type { FunctionRecord } from '../core/types.ts';
import type { StreamRequestInfo } from '../sandbox/protocol.ts';
import type { ExecutionRow } from '../store/executions.ts';

/** A finished stream session as an execution record (mode `stream`; the input is the path and query, never headers). */
export function streamExecutionRow(fn: FunctionRecord, s: { executionId: string; createdAt: string; request: StreamRequestInfo; result: InvocationResult; maxDurationMs: number }): ExecutionRow {
  const { result } = s;
  return {
    id: s.executionId,
    owner_id: fn.ownerId,
    function_id: fn.id,
    function_name: fn.name,
    version: fn.version,
    timeout_ms: s.maxDurationMs,
    mode: 'stream',
    status: result.status,
    input: JSON.stringify({ path: s.request.path, query: s.request.query }),
    result: result.result === undefined ? null : JSON.stringify(result.result),
    error: result.error === null ? null : JSON.stringify(result.error),
    logs: result.logs,
    logs_truncated: result.logsTruncated ? 1 : 0,
    duration_ms: result.durationMs,
    cold_start: result.coldStart ? 1 : 0,
    instance_id: result.instanceId,
    attempts: 1,
    max_attempts: 1,
    available_at: 0,
    lease_owner: null,
    lease_expires_at: null,
    idempotency_key: null,
    request_hash: null,
    created_at: s.createdAt,
    started_at: s.createdAt,
    finished_at: nowIso(),
  };
}

/** Close reasons are at most 123 bytes of UTF-8 (RFC 6455). */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  return bytes.length <= 123 ? text : bytes.subarray(0, 120).toString('utf8').replace(/\uFFFD+$/, '') + '...';
}

/** How the platform closes a connection whose session ended: 1000 when the handler returned, 1011 otherwise. */
export function closeFor(result: InvocationResult): { code: number; reason: string } {
  if (result.status === 'succeeded') return { code: 1000, reason: '' };
  return { code: 1011, reason: closeReason(`${result.status}: ${result.error?.message ?? 'the stream failed'}`) };
}
