import type { ExecutionError, Runtime, TerminalStatus } from './types.ts';
import type { InvocationMode } from './metrics.ts';

/** Everything the engine needs to run one version of a function. */
export interface InvocationTarget {
  ownerId: string;
  functionId: string;
  functionName: string;
  version: number;
  runtime: Runtime;
  handler: string;
  codeHash: string;
  codeDir: string;
  memoryMb: number;
  timeoutMs: number;
  env: Record<string, string>;
  concurrency: number;
  maxInstances: number;
  /** Distinguishes instances whose injected secrets differ (a digest, never the values). */
  envDigest: string;
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
}

export interface InvocationContext {
  executionId: string;
  /** Epoch ms. */
  deadline: number;
  /** `function_id/object_name` references the function may read through the host API during this invocation. */
  objectRefs?: string[];
  /** The event as the JSON text it was parsed from, when known (it then need not be serialised again). */
  eventJson?: string;
  /** How the invocation arrived (for metrics); default `sync`. */
  mode?: InvocationMode;
}

/** Runs an invocation somewhere (the scheduler and its sandboxes); never throws for user-code failures. */
export interface Invoker {
  invoke(target: InvocationTarget, event: unknown, context: InvocationContext): Promise<InvocationResult>;
}
