import type { Logger } from 'pino';
import { AppError } from '../core/errors.ts';
import { newTimeOrderedId, nowIso } from '../core/ids.ts';
import type { InvocationResult } from '../core/invoker.ts';
import { NO_METRICS, type PlatformMetrics } from '../core/metrics.ts';
import type { FunctionRecord, Principal } from '../core/types.ts';
import type { ExecutionService } from '../executions/service.ts';
import type { SyncRecordWriter } from '../executions/sync-writer.ts';
import type { FunctionService } from '../functions/service.ts';
import type { StreamMessage, StreamSession } from '../sandbox/driver.ts';
import type { StreamRequestInfo } from '../sandbox/protocol.ts';
import { toInvocationResult } from '../scheduler/outcome.ts';
import type { StreamLease, StreamPools, StreamPoolStatus } from './stream-pool.ts';
import { closeFor, streamExecutionRow } from './stream-record.ts';

export interface StreamLimits {
  /** A session longer than this is ended (the instance is killed: `timed_out`). */
  maxDurationMs: number;
  /** After the client went away, the handler has this long to return before its instance is killed. */
  endGraceMs: number;
  maxMessageBytes: number;
}

/** The connection's side, as the service drives it (streams/endpoint.ts implements it over `ws`). */
export interface StreamClient {
  /** Writes one message; `written` once it has left, which lets the function send another. */
  send(message: StreamMessage, written: () => void): void;
  close(code: number, reason: string): void;
  /** Stop / resume reading the client's messages (the function is not keeping up). */
  pause(): void;
  resume(): void;
  /** Bytes accepted for the client and not yet written to its socket. */
  readonly bufferedAmount: number;
}

/** A function resolved and an instance reserved for one connection, before the upgrade completes. */
export interface PreparedStream {
  executionId: string;
  fn: FunctionRecord;
  lease: StreamLease;
  request: StreamRequestInfo;
  createdAt: string;
}

/** The running session, fed by the connection. */
export interface RunningStream {
  message(message: StreamMessage): void;
  /** The client closed or the connection dropped. Idempotent. */
  gone(): void;
  /** Settles once the session ended and was recorded. */
  readonly done: Promise<void>;
}

export interface LiveSession {
  executionId: string;
  functionId: string;
  instanceId: string;
  startedAt: string;
  messagesIn: number;
  messagesOut: number;
  /** Bytes the platform holds for the session: queued for the function, sent to the client and not yet written. */
  bufferedBytes: number;
  clientBufferedBytes: number;
}

const STREAM_RUNTIMES: ReadonlySet<string> = new Set(['node', 'python']);
const asOwner = (userId: string): Principal => ({ userId, role: 'user', via: 'api_key' });

/**
 * Stream functions (docs/streams.md): one exclusive instance per connection for the connection's life,
 * messages both ways with flow control, one execution record per session.
 */
export class StreamService {
  readonly #functions: FunctionService;
  readonly #executions: ExecutionService;
  readonly #pools: StreamPools;
  readonly #writer: SyncRecordWriter;
  readonly #metrics: PlatformMetrics;
  readonly #log: Logger;
  readonly limits: StreamLimits;
  readonly #live = new Map<string, { functionId: string; instanceId: string; startedAt: string; session: StreamSession; client: StreamClient; counts: { in: number; out: number } }>();

  constructor(deps: { functions: FunctionService; executions: ExecutionService; pools: StreamPools; writer: SyncRecordWriter; metrics?: PlatformMetrics; log: Logger; limits: StreamLimits }) {
    this.#functions = deps.functions;
    this.#executions = deps.executions;
    this.#pools = deps.pools;
    this.#writer = deps.writer;
    this.#metrics = deps.metrics ?? NO_METRICS;
    this.#log = deps.log;
    this.limits = deps.limits;
  }

  /** Resolves the owner's function and reserves an instance; throws an AppError the endpoint answers with. */
  async prepare(ownerId: string, functionId: string, request: StreamRequestInfo): Promise<PreparedStream> {
    const fn = await this.#functions.get(asOwner(ownerId), functionId);
    if (!STREAM_RUNTIMES.has(fn.runtime)) throw new AppError('BAD_REQUEST', `${fn.runtime} functions cannot serve streams; node and python functions can`);
    const executionId = newTimeOrderedId();
    const createdAt = nowIso();
    const target = await this.#executions.target(fn);
    const lease = 'failure' in target ? target : await this.#pools.acquire(target, fn.stream);
    if ('failure' in lease) {
      this.#record(fn, executionId, createdAt, request, lease.failure);
      throw new AppError('EXECUTION_FAILED', `The stream could not start: ${lease.failure.error?.message ?? lease.failure.status} (execution ${executionId})`, {
        details: { executionId, status: lease.failure.status, reason: lease.failure.error?.reason ?? null },
      });
    }
    return { executionId, fn, lease, request, createdAt };
  }

  /** The upgrade did not complete (the client left meanwhile): the instance goes back unused. */
  abandon(prepared: PreparedStream): void {
    prepared.lease.release();
  }

  run(prepared: PreparedStream, client: StreamClient): RunningStream {
    const { lease, executionId, fn } = prepared;
    const startedAt = performance.now();
    const counts = { in: 0, out: 0 };
    let clientOpen = true;
    let graceTimer: NodeJS.Timeout | undefined;
    let graceExpired = false;
    let finished = false;
    let session: StreamSession;
    try {
      session = lease.instance.sandbox.openStream({
        executionId,
        deadlineMs: Date.now() + this.limits.maxDurationMs,
        request: prepared.request,
        maxMessageBytes: this.limits.maxMessageBytes,
        onMessage: (message) => {
          counts.out++;
          client.send(message, () => session.release());
        },
        onClose: (code, reason) => {
          if (clientOpen) client.close(code, reason);
        },
        onWritable: () => client.resume(),
      });
    } catch (err) {
      this.#log.error({ err, executionId, instanceId: lease.instance.id }, 'opening a stream session failed');
      lease.release();
      client.close(1011, 'the instance became unavailable');
      return { message: () => {}, gone: () => {}, done: Promise.resolve() };
    }
    this.#live.set(executionId, { functionId: fn.id, instanceId: lease.instance.id, startedAt: nowIso(), session, client, counts });
    const done = session.outcome.then((outcome) => {
      finished = true;
      clearTimeout(graceTimer);
      this.#live.delete(executionId);
      let result = toInvocationResult(outcome, { coldStart: lease.coldStart, instanceId: lease.instance.id, durationMs: performance.now() - startedAt });
      if (graceExpired && outcome.kind !== 'ok' && outcome.kind !== 'error') {
        result = { ...result, status: 'timed_out', error: { reason: 'timeout', message: `The stream handler did not return within ${this.limits.endGraceMs} ms after the client went away` } };
      }
      lease.release();
      this.#record(fn, executionId, prepared.createdAt, prepared.request, result);
      if (clientOpen) {
        const { code, reason } = closeFor(result);
        client.close(code, reason);
      }
    });
    return {
      message: (message) => {
        counts.in++;
        if (!session.write(message)) client.pause();
      },
      gone: () => {
        if (!clientOpen) return;
        clientOpen = false;
        // The instance may already serve another connection: only a session still running is waited for.
        if (finished) return;
        session.end();
        graceTimer = setTimeout(() => {
          graceExpired = true;
          void lease.instance.sandbox.kill(`the client went away and the stream handler did not return within ${this.limits.endGraceMs} ms`);
        }, this.limits.endGraceMs);
        graceTimer.unref();
      },
      done,
    };
  }

  /** Pools and open sessions of one of the owner's functions (GET /api/v1/functions/{id}/streams). */
  async status(owner: Principal, functionId: string): Promise<{ pools: StreamPoolStatus[]; sessions: LiveSession[] }> {
    const fn = await this.#functions.get(owner, functionId);
    const sessions = [...this.#live]
      .filter(([, s]) => s.functionId === fn.id)
      .map(([executionId, s]) => ({ executionId, functionId: s.functionId, instanceId: s.instanceId, startedAt: s.startedAt, messagesIn: s.counts.in, messagesOut: s.counts.out, bufferedBytes: s.session.bufferedBytes, clientBufferedBytes: s.client.bufferedAmount }));
    return { pools: this.#pools.status(fn.id), sessions };
  }

  #record(fn: FunctionRecord, executionId: string, createdAt: string, request: StreamRequestInfo, result: InvocationResult): void {
    this.#writer.add(streamExecutionRow(fn, { executionId, createdAt, request, result, maxDurationMs: this.limits.maxDurationMs }));
    this.#metrics.invocation({
      functionId: fn.id,
      functionName: fn.name,
      runtime: fn.runtime,
      mode: 'stream',
      status: result.status,
      errorReason: result.error?.reason ?? null,
      durationMs: result.durationMs,
      coldStart: result.coldStart,
    });
  }
}
