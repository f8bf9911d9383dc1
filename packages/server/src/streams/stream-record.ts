import { nowIso } from '../core/ids.ts';
import type { InvocationResult } from '../core/invocation.ts';
import type { FunctionRecord } from '../core/types.ts';
import type { StreamRequestInfo } from '../core/stream.ts';
import type { FinishedExecution } from '../core/ports/store.ts';
import { finishedExecution } from '../executions/finished-execution.ts';

/** A finished stream session as an execution record (mode `stream`; the input is the path and query, never headers). */
export function streamExecution(fn: FunctionRecord, s: { executionId: string; createdAt: string; request: StreamRequestInfo; result: InvocationResult; maxDurationMs: number }): FinishedExecution {
  return finishedExecution(fn, {
    id: s.executionId,
    mode: 'stream',
    timeoutMs: s.maxDurationMs,
    input: { path: s.request.path, query: s.request.query },
    outcome: s.result,
    createdAt: s.createdAt,
    finishedAt: nowIso(),
  });
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
