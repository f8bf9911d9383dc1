import type { InvocationMode } from './invocation.ts';
import type { TerminalStatus } from './types.ts';

export type { InvocationMode };

/** One finished invocation attempt (an async execution retried three times is three samples). */
export interface InvocationSample {
  functionId: string;
  functionName: string;
  runtime: string;
  mode: InvocationMode;
  status: TerminalStatus;
  /** `error.reason` of a failed attempt (user_error, timeout, oom, queue_timeout…), null on success. */
  errorReason: string | null;
  durationMs: number;
  coldStart: boolean;
}

/** An invocation refused before it ran: the function's wait queue was full, or no instance could be had (429). */
export interface RejectionSample {
  functionId: string;
  functionName: string;
  mode: InvocationMode;
  reason: string;
}

/** One HTTP request answered by a plane; `route` is the route pattern, never the raw URL. */
export interface RequestSample {
  plane: 'control' | 'gateway';
  route: string;
  method: string;
  statusCode: number;
  durationMs: number;
}

/**
 * What components record; the Prometheus registry behind it lives in metrics/. Every method must be
 * cheap enough for the invoke hot path (a few map lookups and additions).
 */
export interface PlatformMetrics {
  invocation(sample: InvocationSample): void;
  rejection(sample: RejectionSample): void;
  request(sample: RequestSample): void;
  /** An async execution used up its attempts and was dead-lettered. */
  deadLettered(sample: { functionId: string; functionName: string }): void;
}

export const NO_METRICS: PlatformMetrics = Object.freeze({
  invocation: () => {},
  rejection: () => {},
  request: () => {},
  deadLettered: () => {},
});

/** One tick of the autoscaler (autoscaler/autoscaler.ts): what it read and what it wants. */
export interface AutoscalerSample {
  /** decide()'s reason: scale_up, scale_down, hold_cooldown, hold_in_band, clamp_min, clamp_max. */
  decision: string;
  /** The worker count it wants. */
  desired: number;
  /** The ready workers it counted. */
  ready: number;
  /** Executions waiting or running (pending + ack-pending + the sync queue). */
  demand: number;
}

/** What the autoscaler records; metrics/autoscaler-metrics.ts registers it with Prometheus. */
export interface AutoscalerMetrics {
  decision(sample: AutoscalerSample): void;
  /** A tick that could not read its inputs (`read`) or whose actuator failed (`actuate`). */
  failure(stage: 'read' | 'actuate'): void;
}

export const NO_AUTOSCALER_METRICS: AutoscalerMetrics = Object.freeze({ decision: () => {}, failure: () => {} });
