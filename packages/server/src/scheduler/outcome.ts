import type { InvocationResult } from '../core/invoker.ts';
import type { InvokeOutcome, LoadOutcome } from '../sandbox/driver.ts';

/** Maps the sandbox's closed outcome taxonomy onto execution terminal states, each with a reason. */
export function toInvocationResult(outcome: InvokeOutcome | Exclude<LoadOutcome, { kind: 'loaded' }>, meta: { coldStart: boolean; instanceId: string | null; durationMs?: number }): InvocationResult {
  const base = { logs: outcome.logs, logsTruncated: outcome.logsTruncated, durationMs: meta.durationMs ?? outcome.durationMs, coldStart: meta.coldStart, instanceId: meta.instanceId };
  switch (outcome.kind) {
    case 'ok':
      return { ...base, status: 'succeeded', result: outcome.result, error: null };
    case 'error':
      return { ...base, status: 'failed', result: null, error: { reason: 'user_error', message: outcome.name === '' ? outcome.message : `${outcome.name}: ${outcome.message}`, stack: outcome.stack } };
    case 'timeout':
      return { ...base, status: 'timed_out', result: null, error: { reason: 'timeout', message: `The execution did not finish within ${outcome.timeoutMs} ms` } };
    case 'oom':
      return { ...base, status: 'oom_killed', result: null, error: { reason: 'oom', message: `The execution exceeded its memory limit of ${outcome.memoryMb} MB` } };
    case 'output_truncated':
      return { ...base, status: 'output_truncated', result: null, error: { reason: 'output_limit', message: `The execution wrote more than ${outcome.outputBytes} bytes of output` } };
    case 'crashed':
      return { ...base, status: 'system_error', result: null, error: { reason: 'crashed', message: `The instance crashed: ${outcome.reason}` } };
  }
}

export function platformFailure(reason: string, message: string, meta: { coldStart: boolean; instanceId: string | null; durationMs: number }): InvocationResult {
  return { status: 'system_error', result: null, error: { reason, message }, logs: '', logsTruncated: false, ...meta };
}
