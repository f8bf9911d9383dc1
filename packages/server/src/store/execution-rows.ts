import { faultOf, isExecutionReason, type ExecutionReason } from '../core/execution-reasons.ts';
import { nestedDeeperThan, tooDeepMessage } from '../core/json-depth.ts';
import type { FinishedExecution, NewQueuedExecution, Outcome, StoredExecution } from '../core/ports/store.ts';
import type { ExecutionError, ExecutionStatus } from '../core/types.ts';
import type { ExecutionsTable } from './schema.ts';

/** Execution records between their domain shape and their row: JSON columns hold text, booleans 0/1. */

/**
 * A JSON column as a value. What cannot be shown — not JSON (damaged, truncated), or nested past
 * MAX_JSON_DEPTH (written before the limit existed; answering with it would throw) — reads as a marker,
 * so one bad row never breaks a listing.
 */
function parse(text: string | null, column: string): unknown {
  if (text === null) return null;
  if (nestedDeeperThan(text)) return unreadable(column, tooDeepMessage(`the stored ${column}`));
  try {
    return JSON.parse(text);
  } catch {
    return unreadable(column, `the stored ${column} is not valid JSON`);
  }
}

const unreadable = (column: string, why: string) => ({ $unreadable: why, column });
const json = (value: unknown): string => JSON.stringify(value ?? null);

/** A stored error as the registry says it: errors written before faults existed get theirs from the reason. */
function errorOf(text: string | null): ExecutionError | null {
  const parsed = parse(text, 'error');
  if (parsed === null) return null;
  const raw: { reason?: unknown; message?: unknown; stack?: unknown } = typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : { message: String(parsed) };
  if ('$unreadable' in raw) return { reason: 'platform_error', fault: faultOf('platform_error'), message: String(raw.$unreadable) };
  const first = /^[a-z_]+/.exec(typeof raw.reason === 'string' ? raw.reason : '')?.[0] ?? '';
  const reason: ExecutionReason = isExecutionReason(first) ? first : 'platform_error';
  const error: ExecutionError = { reason, fault: faultOf(reason), message: typeof raw.message === 'string' ? raw.message : '' };
  if (typeof raw.stack === 'string') error.stack = raw.stack;
  return error;
}

export function toStored(r: ExecutionsTable): StoredExecution {
  return {
    id: r.id,
    ownerId: r.owner_id,
    functionId: r.function_id,
    functionName: r.function_name,
    version: r.version,
    mode: r.mode,
    status: r.status as ExecutionStatus,
    input: parse(r.input, 'input'),
    result: parse(r.result, 'result'),
    error: errorOf(r.error),
    logs: r.logs,
    logsTruncated: r.logs_truncated === 1,
    durationMs: r.duration_ms,
    coldStart: r.cold_start === null ? null : r.cold_start === 1,
    instanceId: r.instance_id,
    workerId: r.worker_id ?? null,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    timeoutMs: r.timeout_ms,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export function finishedRow(e: FinishedExecution): ExecutionsTable {
  return {
    id: e.id,
    owner_id: e.ownerId,
    function_id: e.functionId,
    function_name: e.functionName,
    version: e.version,
    timeout_ms: e.timeoutMs,
    mode: e.mode,
    input: e.inputJson ?? json(e.input),
    ...outcomeColumns(e, e.resultJson),
    attempts: e.attempts,
    max_attempts: e.maxAttempts,
    available_at: 0,
    lease_owner: null,
    lease_expires_at: null,
    idempotency_key: null,
    request_hash: null,
    created_at: e.createdAt,
  };
}

export function queuedRow(e: NewQueuedExecution): ExecutionsTable {
  return {
    id: e.id,
    owner_id: e.ownerId,
    function_id: e.functionId,
    function_name: e.functionName,
    version: e.version,
    timeout_ms: e.timeoutMs,
    mode: 'async',
    status: 'queued',
    input: e.inputJson,
    result: null,
    error: null,
    logs: '',
    logs_truncated: 0,
    duration_ms: null,
    cold_start: null,
    instance_id: null,
    worker_id: null,
    attempts: 0,
    max_attempts: e.maxAttempts,
    available_at: e.availableAt,
    lease_owner: null,
    lease_expires_at: null,
    idempotency_key: e.idempotencyKey,
    request_hash: e.requestHash,
    created_at: e.createdAt,
    started_at: null,
    finished_at: null,
  };
}

/** What a run's end sets: an Outcome, or a finished record (whose times and duration the type allows to be null). */
type OutcomeFields = Omit<Outcome, 'durationMs' | 'startedAt' | 'finishedAt'> & { durationMs: number | null; startedAt: string | null; finishedAt: string | null };

/** The columns a run's end sets; `resultJson`, when the caller has it, is stored as the result's text. */
export function outcomeColumns(o: OutcomeFields, resultJson?: string) {
  return {
    status: o.status,
    result: resultJson ?? (o.result === undefined ? null : JSON.stringify(o.result)),
    error: o.error === null ? null : JSON.stringify(o.error),
    logs: o.logs,
    logs_truncated: o.logsTruncated ? 1 : 0,
    duration_ms: o.durationMs,
    cold_start: o.coldStart === null ? null : o.coldStart ? 1 : 0,
    instance_id: o.instanceId,
    worker_id: o.workerId,
    started_at: o.startedAt,
    finished_at: o.finishedAt,
  };
}
