/**
 * The engine seam as data. Everything here can be JSON-serialised and sent to another machine: code is
 * named by its content hash, secrets by name (the worker resolves them), and refusals are values.
 */
import { EXECUTION_REASONS, type ExecutionReason } from './execution-reasons.ts';
import type { ExecutionError, Runtime, StreamPolicy, TerminalStatus } from './types.ts';

/** Where a version's code comes from: a content-addressed bundle (later also an image digest). */
export type CodeRef = { kind: 'bundle'; hash: string };

/** Everything a worker needs to run one version of a function. */
export interface InvocationTarget {
  ownerId: string;
  functionId: string;
  functionName: string;
  version: number;
  runtime: Runtime;
  handler: string;
  code: CodeRef;
  /** `cpuQuotaPercent` null: the worker derives the quota from `memoryMb` (docs/sandbox.md#cpu). */
  limits: { memoryMb: number; cpuQuotaPercent: number | null; timeoutMs: number; concurrency: number; maxInstances: number };
  /** The function's own environment; never a secret value. */
  env: Record<string, string>;
  /** Names of the owner's secrets the instance receives as upper-cased variables (resolved on the worker). */
  secrets: readonly string[];
  /** Pooling of its WebSocket stream instances. */
  stream: StreamPolicy;
}

/** How an invocation arrived: the API (sync or async), an HTTP route of the gateway, or a stream. */
export type InvocationMode = 'sync' | 'async' | 'http' | 'stream';

export interface InvocationRequest {
  target: InvocationTarget;
  executionId: string;
  /** The request that caused it, carried onto every log line of the invocation. */
  requestId?: string;
  /** Absolute epoch ms. */
  deadline: number;
  mode: InvocationMode;
  event: unknown;
  /** The event as the JSON text it was parsed from, when known (it then need not be serialised again). */
  eventJson?: string;
  /** `function_id/object_name` references the function may read through the host API during this invocation. */
  objectRefs?: readonly string[];
}

export interface InvocationResult {
  status: TerminalStatus;
  result: unknown;
  error: ExecutionError | null;
  logs: string;
  logsTruncated: boolean;
  durationMs: number;
  coldStart: boolean;
  instanceId: string | null;
  /** WORKER_ID of the worker that ran it (its invoker stamps it); absent when no worker took it. */
  workerId?: string | null;
}

/** Work refused before it ran: the API answers 429 (queue_full, no_capacity) or 503 (stopping). */
export interface Rejection {
  rejected: 'queue_full' | 'no_capacity' | 'stopping';
  message: string;
  retryAfterMs: number;
}

export function isRejection(value: object): value is Rejection {
  return 'rejected' in value;
}

export function rejection(rejected: Rejection['rejected'], message: string, retryAfterMs = 1000): Rejection {
  return { rejected, message, retryAfterMs };
}

/** An execution error whose status and fault come from the reasons registry. */
export function executionError(reason: ExecutionReason, message: string, stack?: string): ExecutionError {
  const error: ExecutionError = { reason, fault: EXECUTION_REASONS[reason].fault, message };
  if (stack !== undefined) error.stack = stack;
  return error;
}

/** A result that did not succeed and produced no logs (it failed before or around the run). */
export function failure(reason: ExecutionReason, message: string, meta: Partial<Pick<InvocationResult, 'coldStart' | 'instanceId' | 'durationMs' | 'logs' | 'logsTruncated'>> = {}): InvocationResult {
  return {
    status: EXECUTION_REASONS[reason].status,
    result: null,
    error: executionError(reason, message),
    logs: meta.logs ?? '',
    logsTruncated: meta.logsTruncated ?? false,
    durationMs: meta.durationMs ?? 0,
    coldStart: meta.coldStart ?? false,
    instanceId: meta.instanceId ?? null,
  };
}
