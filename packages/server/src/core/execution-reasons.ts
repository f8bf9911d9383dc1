import type { TerminalStatus } from './types.ts';

/** Whose doing an unsuccessful execution was: the function's code or input (`user`), or the platform's. */
export type Fault = 'none' | 'user' | 'platform';

/**
 * The one closed registry of why an execution ended as it did. Every `ExecutionError.reason` is a key
 * here; its status and fault come from here, never from the call site (docs/executions.md lists them).
 */
export const EXECUTION_REASONS = {
  user_error: { status: 'failed', fault: 'user', summary: 'The handler threw, or reported an error as its result' },
  bad_input: { status: 'failed', fault: 'user', summary: 'The invocation asked for something it may not have' },
  crashed: { status: 'failed', fault: 'user', summary: "The function's process exited or broke the runtime protocol" },
  timeout: { status: 'timed_out', fault: 'user', summary: 'The execution ran past its timeout and was killed' },
  oom: { status: 'oom_killed', fault: 'user', summary: 'The execution went over its memory limit and was killed' },
  output_limit: { status: 'output_truncated', fault: 'user', summary: 'The execution wrote more output than it may' },
  function_deleted: { status: 'cancelled', fault: 'none', summary: 'The function was deleted before the execution ran' },
  queue_timeout: { status: 'timed_out', fault: 'platform', summary: 'No instance became free before the deadline' },
  secrets_unavailable: { status: 'system_error', fault: 'platform', summary: 'A declared secret does not exist or cannot be decrypted' },
  sandbox_unavailable: { status: 'system_error', fault: 'platform', summary: 'No sandbox could be started on this host' },
  runtime_unavailable: { status: 'system_error', fault: 'platform', summary: "This host lacks the runtime's interpreter" },
  instance_stopped: { status: 'system_error', fault: 'platform', summary: 'The platform stopped the instance under the execution (shutdown, a deleted function)' },
  worker_lost: { status: 'system_error', fault: 'platform', summary: 'The worker running the invocation stopped answering (it died or was cut off)' },
  lease_expired: { status: 'system_error', fault: 'platform', summary: 'The worker running the execution stopped before it finished' },
  platform_error: { status: 'system_error', fault: 'platform', summary: 'The platform failed while running the execution' },
} as const satisfies Record<string, { status: TerminalStatus; fault: Fault; summary: string }>;

export type ExecutionReason = keyof typeof EXECUTION_REASONS;

export function isExecutionReason(value: string): value is ExecutionReason {
  return Object.hasOwn(EXECUTION_REASONS, value);
}

/** The fault of a stored reason; reasons written by older versions ("timeout; dead-lettered after…") map by their first word. */
export function faultOf(reason: string): Fault {
  const key = /^[a-z_]+/.exec(reason)?.[0] ?? '';
  return isExecutionReason(key) ? EXECUTION_REASONS[key].fault : 'platform';
}
