import type { InvocationResult } from '../core/invocation.ts';
import type { FinishedExecution } from '../core/ports/store.ts';
import type { FunctionRecord } from '../core/types.ts';

/** The record of an execution that ran once, outside the async queue (a sync call or a stream session). */
export function finishedExecution(fn: FunctionRecord, r: {
  id: string;
  mode: 'sync' | 'stream';
  timeoutMs: number;
  input: unknown;
  /** The input as the JSON text it arrived as, when known (stored as is). */
  inputJson?: string;
  outcome: InvocationResult;
  /** The result already serialised, when the caller has it (the hot path serialises once). */
  resultJson?: string;
  createdAt: string;
  finishedAt: string;
}): FinishedExecution {
  const { outcome } = r;
  return {
    id: r.id,
    ownerId: fn.ownerId,
    functionId: fn.id,
    functionName: fn.name,
    version: fn.version,
    mode: r.mode,
    status: outcome.status,
    input: r.input ?? null,
    inputJson: r.inputJson,
    result: outcome.result ?? null,
    resultJson: r.resultJson,
    error: outcome.error,
    logs: outcome.logs,
    logsTruncated: outcome.logsTruncated,
    durationMs: outcome.durationMs,
    coldStart: outcome.coldStart,
    instanceId: outcome.instanceId,
    workerId: outcome.workerId ?? null,
    attempts: 1,
    maxAttempts: 1,
    timeoutMs: r.timeoutMs,
    createdAt: r.createdAt,
    startedAt: r.createdAt,
    finishedAt: r.finishedAt,
  };
}
