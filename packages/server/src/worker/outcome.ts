import { executionError, failure, type InvocationResult } from '../core/invocation.ts';
import type { InvokeOutcome, LoadOutcome } from '../sandbox/driver.ts';

/** Maps the sandbox's closed outcome taxonomy onto execution results; statuses and faults come from the reasons registry. */
export function toInvocationResult(outcome: InvokeOutcome | Exclude<LoadOutcome, { kind: 'loaded' }>, meta: { coldStart: boolean; instanceId: string | null; durationMs?: number }): InvocationResult {
  const run = { logs: outcome.logs, logsTruncated: outcome.logsTruncated, durationMs: meta.durationMs ?? outcome.durationMs, coldStart: meta.coldStart, instanceId: meta.instanceId };
  switch (outcome.kind) {
    case 'ok':
      return { ...run, status: 'succeeded', result: outcome.result, error: null };
    case 'error':
      return { ...run, status: 'failed', result: null, error: executionError('user_error', outcome.name === '' ? outcome.message : `${outcome.name}: ${outcome.message}`, outcome.stack) };
    case 'timeout':
      return failure('timeout', `The execution did not finish within ${outcome.timeoutMs} ms`, run);
    case 'oom':
      return failure('oom', `The execution exceeded its memory limit of ${outcome.memoryMb} MB`, run);
    case 'output_truncated':
      return failure('output_limit', `The execution wrote more than ${outcome.outputBytes} bytes of output`, run);
    case 'crashed':
      if (outcome.stopped === true) return failure('instance_stopped', `The platform stopped the instance: ${outcome.reason.replace(/^instance killed: /, '')}`, run);
      return failure('crashed', `The instance crashed: ${outcome.reason}`, run);
  }
}
