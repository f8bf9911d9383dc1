import type { InvocationRequest, InvocationResult, InvocationTarget, Rejection } from '../invocation.ts';
import type { StreamMessage, StreamRequestInfo } from '../stream.ts';

/**
 * The one engine seam: runs invocations and opens sessions on instances somewhere (this process's pool,
 * or later a remote worker). Never throws for user-code failures; refusals come back as values.
 */
export interface Invoker {
  invoke(request: InvocationRequest): Promise<InvocationResult | Rejection>;
  /** Reserves an instance for one session (exclusively, for the session's life); start it with `start`. */
  openSession(request: SessionRequest): Promise<Session | Rejection | { failure: InvocationResult }>;
}

export interface SessionRequest {
  target: InvocationTarget;
  executionId: string;
  requestId?: string;
  /** Absolute epoch-ms end of the session: past it the instance is killed (`timeout`). */
  deadline: number;
  /** Path, query and headers of the connection, as the function sees them (no credentials). */
  request: StreamRequestInfo;
  maxMessageBytes: number;
  /** Overrides the flow-control window (tests, benchmarks). */
  window?: { messages: number; bytes: number };
}

export interface SessionHandlers {
  /** Each message the function sends, in order; call `release()` once it has been written out. */
  onMessage(message: StreamMessage): void;
  /** The function asked to close the connection with this code and reason. */
  onClose(code: number, reason: string): void;
  /** write() returned false earlier and the function now accepts more. */
  onWritable(): void;
}

/** An instance reserved for one session: `start` runs the function's stream handler on it. */
export interface Session {
  readonly instanceId: string;
  readonly coldStart: boolean;
  /** Starts the session; false when the instance became unusable meanwhile (the session is then over). */
  start(handlers: SessionHandlers): boolean;
  /** Queues a message for the function; false once its window is full (stop reading until onWritable). */
  write(message: StreamMessage): boolean;
  /** One more of the function's messages has been written out. */
  release(): void;
  /**
   * The client is gone: the function's iterator ends; if the handler has not returned within `graceMs`
   * its instance is killed and the session ends `timed_out`. Idempotent.
   */
  end(graceMs: number): void;
  /** Never started (the upgrade failed): the instance goes back unused. */
  abandon(): void;
  /** Settles once a started session ended and its instance was given back. */
  readonly outcome: Promise<InvocationResult>;
  /** Payload bytes the worker holds for the session. */
  readonly bufferedBytes: number;
}
