import type { CapturedLogs, ExitCause, FailureOutcome, InvokeOutcome, LoadOutcome } from '../driver.ts';
import { LogBuffer } from '../log-buffer.ts';
import type { ErrorPayload } from '../protocol.ts';

/** A load, invoke or stream session sent to the runtime and not answered yet. */
export interface PendingCall {
  id: string;
  kind: 'load' | 'invoke' | 'stream';
  logs: LogBuffer;
  /** Bytes that arrived on the raw stdout/stderr pipes while this call was the only one in flight. */
  rawBytes: number;
  startedAt: number;
  startedAtEpoch: number;
  deadlineMs: number;
  /** Re-armed in steps for far deadlines, so always clear the current one. */
  timer?: NodeJS.Timeout;
  settle: (outcome: InvokeOutcome | LoadOutcome) => void;
}

/** Why the instance went away, and which call (if any) caused it. */
export interface Termination {
  cause: ExitCause;
  reason: string;
  callId: string | null;
  /** Stopped through kill() by the instance's owner (the pool), not by anything the instance did. */
  byOwner?: boolean;
}

export interface ExitStatus {
  exitCode: number | null;
  signal: string | null;
}

export function newPendingCall(
  id: string,
  kind: PendingCall['kind'],
  logBytes: number,
  deadlineMs: number,
  settle: PendingCall['settle'],
  onDeadline: () => void,
): PendingCall {
  const call: PendingCall = { id, kind, logs: new LogBuffer(logBytes), rawBytes: 0, startedAt: performance.now(), startedAtEpoch: Date.now(), deadlineMs, settle };
  const arm = (): void => {
    const remaining = deadlineMs - Date.now();
    // setTimeout fires at once for delays over 2^31-1 ms (~24.8 days): wait in steps instead.
    call.timer = remaining > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(onDeadline, Math.max(0, remaining));
  };
  arm();
  return call;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export function captured(call: PendingCall): CapturedLogs {
  return { logs: call.logs.text(), logsTruncated: call.logs.truncated, durationMs: Math.round((performance.now() - call.startedAt) * 1000) / 1000 };
}

export function errorOutcome(call: PendingCall, error: ErrorPayload): FailureOutcome {
  return { kind: 'error', name: error.name, message: error.message, stack: error.stack, ...captured(call) };
}

/** The outcome of a call that was still in flight when the instance went away. */
export function outcomeOnExit(call: PendingCall, end: Termination, status: ExitStatus, limits: { memoryMb: number; outputBytes: number }): FailureOutcome {
  const logs = captured(call);
  const ownFault = end.callId === call.id;
  if (end.cause === 'oom') return { kind: 'oom', memoryMb: limits.memoryMb, ...logs };
  if (end.cause === 'timeout' && ownFault) return { kind: 'timeout', timeoutMs: call.deadlineMs - call.startedAtEpoch, ...logs };
  if (end.cause === 'output_truncated' && ownFault) return { kind: 'output_truncated', outputBytes: limits.outputBytes, ...logs };
  const reason = end.cause === 'killed' ? `instance killed: ${end.reason}` : ownFault || end.callId === null ? end.reason : `instance stopped because another execution failed: ${end.reason}`;
  return { kind: 'crashed', exitCode: status.exitCode, signal: status.signal, reason, stopped: end.byOwner === true, ...logs };
}
