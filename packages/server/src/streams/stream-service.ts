import type { Logger } from 'pino';
import type { StreamLimits } from '../config/options.ts';
import { AppError } from '../core/errors.ts';
import { newTimeOrderedId, nowIso } from '../core/ids.ts';
import { isRejection, type InvocationResult } from '../core/invocation.ts';
import type { Invoker, Session } from '../core/ports/invoker.ts';
import type { StreamMessage, StreamRequestInfo } from '../core/stream.ts';
import { ownerPrincipal, type FunctionRecord, type Principal } from '../core/types.ts';
import { recordsBacklog, refusal, type ExecutionService } from '../executions/service.ts';
import type { SyncRecordWriter } from '../executions/sync-writer.ts';
import type { FunctionService } from '../functions/service.ts';
import type { ClusterView, SessionPoolView } from '../core/ports/cluster.ts';
import { closeFor, streamExecution } from './stream-record.ts';

export type { StreamLimits };

/** The connection's side, as the service drives it (gateway/stream-endpoint.ts implements it over `ws`). */
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
  requestId: string | undefined;
  fn: FunctionRecord;
  session: Session;
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

/**
 * Stream functions (docs/streams.md): one exclusive instance per connection for the connection's life,
 * messages both ways with flow control, one execution record per session. Sessions are leases of the
 * engine (Invoker.openSession), like invocations.
 */
export class StreamService {
  readonly #functions: FunctionService;
  readonly #executions: ExecutionService;
  readonly #invoker: Invoker;
  readonly #cluster: ClusterView;
  readonly #writer: SyncRecordWriter;
  readonly #log: Logger;
  readonly limits: StreamLimits;
  readonly #live = new Map<string, { functionId: string; startedAt: string; session: Session; client: StreamClient; counts: { in: number; out: number } }>();

  constructor(deps: { functions: FunctionService; executions: ExecutionService; invoker: Invoker; cluster: ClusterView; writer: SyncRecordWriter; log: Logger; limits: StreamLimits }) {
    this.#functions = deps.functions;
    this.#executions = deps.executions;
    this.#invoker = deps.invoker;
    this.#cluster = deps.cluster;
    this.#writer = deps.writer;
    this.#log = deps.log;
    this.limits = deps.limits;
  }

  /** Resolves the owner's function and reserves an instance; throws an AppError the endpoint answers with. */
  async prepare(ownerId: string, functionId: string, request: StreamRequestInfo, requestId?: string): Promise<PreparedStream> {
    // A session ends in a record like a sync invocation's: refused alike while too many wait.
    if (this.#writer.overloaded) throw recordsBacklog();
    const fn = await this.#functions.get(ownerPrincipal(ownerId), functionId);
    if (!STREAM_RUNTIMES.has(fn.runtime)) throw new AppError('BAD_REQUEST', `${fn.runtime} functions cannot serve streams; node and python functions can`);
    const executionId = newTimeOrderedId();
    const createdAt = nowIso();
    const opened = await this.#invoker.openSession({
      target: this.#executions.target(fn),
      executionId,
      requestId,
      deadline: Date.now() + this.limits.maxDurationMs,
      request,
      maxMessageBytes: this.limits.maxMessageBytes,
    });
    if (isRejection(opened)) throw refusal(opened);
    if ('failure' in opened) {
      this.#record(fn, executionId, createdAt, request, opened.failure);
      throw new AppError('EXECUTION_FAILED', `The stream could not start: ${opened.failure.error?.message ?? opened.failure.status} (execution ${executionId})`, {
        details: { executionId, status: opened.failure.status, reason: opened.failure.error?.reason ?? null },
      });
    }
    return { executionId, requestId, fn, session: opened, request, createdAt };
  }

  /** The upgrade did not complete (the client left meanwhile): the instance goes back unused. */
  abandon(prepared: PreparedStream): void {
    prepared.session.abandon();
  }

  run(prepared: PreparedStream, client: StreamClient): RunningStream {
    const { session, executionId, fn } = prepared;
    const counts = { in: 0, out: 0 };
    let clientOpen = true;
    const started = session.start({
      onMessage: (message) => {
        counts.out++;
        client.send(message, () => session.release());
      },
      onClose: (code, reason) => {
        if (clientOpen) client.close(code, reason);
      },
      onWritable: () => client.resume(),
    });
    if (started) this.#live.set(executionId, { functionId: fn.id, startedAt: nowIso(), session, client, counts });
    const done = session.outcome.then((result) => {
      this.#live.delete(executionId);
      this.#record(fn, executionId, prepared.createdAt, prepared.request, result);
      if (clientOpen) {
        const { code, reason } = started ? closeFor(result) : { code: 1011, reason: 'the instance became unavailable' };
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
        session.end(this.limits.endGraceMs);
      },
      done,
    };
  }

  /** Pools and open sessions of one of the owner's functions (GET /api/v1/functions/{id}/streams). */
  async status(owner: Principal, functionId: string): Promise<{ pools: SessionPoolView[]; sessions: LiveSession[] }> {
    const fn = await this.#functions.get(owner, functionId);
    const sessions = [...this.#live]
      .filter(([, s]) => s.functionId === fn.id)
      .map(([executionId, s]) => ({ executionId, functionId: s.functionId, instanceId: s.session.instanceId, startedAt: s.startedAt, messagesIn: s.counts.in, messagesOut: s.counts.out, bufferedBytes: s.session.bufferedBytes, clientBufferedBytes: s.client.bufferedAmount }));
    return { pools: await this.#cluster.sessionPools(fn.id), sessions };
  }

  /** Sessions open now (what a graceful stop waits for). */
  get open(): number {
    return this.#live.size;
  }

  #record(fn: FunctionRecord, executionId: string, createdAt: string, request: StreamRequestInfo, result: InvocationResult): void {
    this.#writer.add(streamExecution(fn, { executionId, createdAt, request, result, maxDurationMs: this.limits.maxDurationMs }));
  }
}
