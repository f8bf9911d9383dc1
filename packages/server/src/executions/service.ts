import { createHash } from 'node:crypto';
import { AppError, notFound } from '../core/errors.ts';
import { isId, newTimeOrderedId, nowIso } from '../core/ids.ts';
import type { Execution, ExecutionStatus, FunctionRecord, Principal } from '../core/types.ts';
import { failure, isRejection, type InvocationMode, type InvocationResult, type InvocationTarget, type Rejection } from '../core/invocation.ts';
import type { Invoker } from '../core/ports/invoker.ts';
import type { Bus } from '../core/ports/bus.ts';
import { publish, type PlatformEvents } from '../core/events.ts';
import { checkSeedInput, objectRefs, requestedSecrets } from './seed-input.ts';
import type { ExecutionStore, StoredExecution } from '../core/ports/store.ts';
import type { FunctionService } from '../functions/service.ts';
import type { SyncRecordWriter } from './sync-writer.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { finishedExecution } from './finished-execution.ts';
import { withWaiting } from './waiting-records.ts';

export interface FunctionRef {
  id?: string;
  name?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The record as the API shows it: without what only the platform reads. */
function toExecution({ logs: _logs, timeoutMs: _timeout, ...execution }: StoredExecution & { inputJson?: string; resultJson?: string }): Execution {
  const { inputJson: _input, resultJson: _result, ...rest } = execution;
  return rest;
}

/** How a run is identified and bounded. */
export interface RunContext {
  executionId: string;
  requestId?: string;
  deadline: number;
  mode: InvocationMode;
  eventJson?: string;
}

/** A refusal of the engine as the API answers it: 429 with Retry-After, or 503 while stopping. */
export function refusal(r: Rejection): AppError {
  const headers = { 'retry-after': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))) };
  return new AppError(r.rejected === 'stopping' ? 'SERVICE_UNAVAILABLE' : 'RATE_LIMITED', r.message, { headers });
}

/**
 * Sync invocations are refused while too many of their records wait for a database that does not take
 * them (locked by another process, disk full): each answered one must be kept until it is written.
 */
export function recordsBacklog(): AppError {
  return new AppError('SERVICE_UNAVAILABLE', 'Execution records cannot be written right now (the database is locked or its disk is full) and too many are waiting: try again shortly', { headers: { 'retry-after': '1' } });
}

/** A finished sync invocation, with its result already serialised (the record and the response share it). */
export interface SyncInvocation {
  execution: Execution;
  /** `execution.result` as JSON text ("null" when there is none). */
  resultJson: string;
}

export class ExecutionService {
  readonly #repo: ExecutionStore;
  readonly #functions: FunctionService;
  readonly #invoker: Invoker;
  readonly #writer: SyncRecordWriter;
  readonly #bus: Bus;
  readonly #outbox: boolean;

  readonly #targets = new WeakMap<FunctionRecord, InvocationTarget>();
  #syncRunning = 0;

  /** Sync invocations (API and gateway) running now: what a graceful stop waits for. */
  get syncRunning(): number {
    return this.#syncRunning;
  }
  readonly #objectExists: (owner: Principal, functionId: string, name: string) => Promise<boolean>;

  constructor(deps: {
    repo: ExecutionStore;
    functions: FunctionService;
    invoker: Invoker;
    writer: SyncRecordWriter;
    bus: Bus;
    objectExists: (owner: Principal, functionId: string, name: string) => Promise<boolean>;
    /** Distributed mode: each accepted execution is announced through the outbox, in its own transaction (roles/distributed.ts relays it). */
    outbox?: boolean;
  }) {
    this.#outbox = deps.outbox ?? false;
    this.#repo = deps.repo;
    this.#objectExists = deps.objectExists;
    this.#functions = deps.functions;
    this.#invoker = deps.invoker;
    this.#writer = deps.writer;
    this.#bus = deps.bus;
  }

  async #resolve(owner: Principal, ref: FunctionRef): Promise<FunctionRecord> {
    if (ref.id !== undefined) return this.#functions.get(owner, ref.id);
    if (ref.name !== undefined) return this.#functions.getByName(owner, ref.name);
    throw new AppError('VALIDATION_FAILED', 'functionId is required');
  }

  /**
   * Runs one invocation of this function version on the invoker. A refusal (no capacity, stopping)
   * comes back as a value; so does a failure to provide what the input asks for.
   */
  async run(fn: FunctionRecord, event: unknown, context: RunContext): Promise<InvocationResult | Rejection> {
    let extra: string[];
    try {
      extra = requestedSecrets(event);
    } catch (err) {
      if (err instanceof AppError) return failure('bad_input', err.message);
      throw err;
    }
    const target = this.target(fn, extra);
    return this.#invoker.invoke({ target, event, executionId: context.executionId, requestId: context.requestId, deadline: context.deadline, mode: context.mode, eventJson: context.eventJson, objectRefs: objectRefs(event) });
  }

  /** What the engine needs to run this version: data only (code by hash, secrets by name). */
  target(fn: FunctionRecord, extraSecrets: readonly string[] = []): InvocationTarget {
    const known = this.#targets.get(fn);
    const base = known ?? this.#newTarget(fn);
    if (extraSecrets.length === 0) return base;
    return { ...base, secrets: [...new Set([...fn.secrets, ...extraSecrets])] };
  }

  /** One target per function record (cached records are shared): built once, not per call. */
  #newTarget(fn: FunctionRecord): InvocationTarget {
    const target: InvocationTarget = Object.freeze({
      ownerId: fn.ownerId,
      functionId: fn.id,
      functionName: fn.name,
      version: fn.version,
      runtime: fn.runtime,
      handler: fn.handler,
      code: Object.freeze({ kind: 'bundle' as const, hash: fn.codeHash }),
      limits: Object.freeze({ memoryMb: fn.memoryMb, cpuQuotaPercent: fn.cpuQuotaPercent, timeoutMs: fn.timeoutMs, concurrency: fn.concurrency, maxInstances: fn.maxInstances }),
      env: fn.env,
      secrets: fn.secrets,
      stream: fn.stream,
    });
    this.#targets.set(fn, target);
    return target;
  }

  /** Runs the function now and answers with the finished execution record; `via` (for metrics) is how the call arrived, the record says sync either way. */
  async invokeSync(owner: Principal, ref: FunctionRef, event: unknown, via: 'sync' | 'http' = 'sync', context: { requestId?: string } = {}): Promise<Execution> {
    return (await this.invokeSyncJson(owner, ref, event, undefined, via, context)).execution;
  }

  /**
   * `invokeSync`, for callers that hold the event's JSON text (the request body) and want the result
   * as JSON text: neither is serialised again on the way.
   */
  async invokeSyncJson(owner: Principal, ref: FunctionRef | FunctionRecord, event: unknown, eventJson?: string, via: 'sync' | 'http' = 'sync', context: { requestId?: string } = {}): Promise<SyncInvocation> {
    if (this.#writer.overloaded) throw recordsBacklog();
    const fn = 'ownerId' in ref ? ref : await this.#resolve(owner, ref);
    await checkSeedInput(owner, event, this.#objectExists);
    const createdMs = Date.now();
    const id = newTimeOrderedId(createdMs);
    const createdAt = nowIso(createdMs);
    this.#syncRunning++;
    let ran: InvocationResult | Rejection;
    try {
      ran = await this.run(fn, event, { executionId: id, requestId: context.requestId, deadline: createdMs + fn.timeoutMs, mode: via, eventJson });
    } finally {
      this.#syncRunning--;
    }
    if (isRejection(ran)) throw refusal(ran);
    const outcome = ran;
    const resultJson = JSON.stringify(outcome.result ?? null);
    // One object for the record and the answer: built from the values in hand, this is the hot path.
    const execution = finishedExecution(fn, { id, mode: 'sync', timeoutMs: fn.timeoutMs, input: event, inputJson: eventJson, outcome, resultJson, createdAt, finishedAt: nowIso() });
    this.#writer.add(execution);
    return { execution, resultJson };
  }

  /**
   * Accepts async work: the record is committed before this returns, so a 202 is never followed by loss.
   * The same idempotency key with the same body returns the first execution; with another body, 409.
   */
  async enqueue(owner: Principal, ref: FunctionRef, event: unknown, idempotencyKey?: string): Promise<{ execution: Execution; created: boolean }> {
    const fn = await this.#resolve(owner, ref);
    await checkSeedInput(owner, event, this.#objectExists);
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,256}$/.test(idempotencyKey)) {
      throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1-256 printable ASCII characters');
    }
    const inputJson = JSON.stringify(event ?? null);
    const requestHash = createHash('sha256').update(fn.id).update('\0').update(inputJson).digest('hex');
    const id = newTimeOrderedId();
    const announcement: PlatformEvents['executions.queued'] = { executionId: id, ownerId: fn.ownerId };
    const outbox = this.#outbox ? { outbox: { subject: 'executions.queued', payload: JSON.stringify(announcement) } } : {};
    const { execution, existing, requestHash: storedHash } = await this.#repo.insertQueued({
      id,
      ownerId: fn.ownerId,
      functionId: fn.id,
      functionName: fn.name,
      version: fn.version,
      timeoutMs: fn.timeoutMs,
      inputJson,
      maxAttempts: fn.maxAttempts,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      availableAt: Date.now(),
      createdAt: nowIso(),
    }, outbox);
    if (existing && storedHash !== requestHash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
    if (!existing) void publish(this.#bus, 'executions.queued', { executionId: execution.id, ownerId: execution.ownerId });
    return { execution: toExecution(execution), created: !existing };
  }

  async #record(owner: Principal, id: string): Promise<StoredExecution> {
    if (!isId(id)) throw notFound('Execution');
    const pending = this.#writer.pending(id);
    const found = pending !== undefined && pending.ownerId === owner.userId ? pending : await this.#repo.get(owner.userId, id);
    if (found === undefined) throw notFound('Execution');
    return found;
  }

  async get(owner: Principal, id: string): Promise<Execution> {
    return toExecution(await this.#record(owner, id));
  }

  async logs(owner: Principal, id: string): Promise<{ executionId: string; logs: string; truncated: boolean }> {
    const found = await this.#record(owner, id);
    return { executionId: found.id, logs: found.logs, truncated: found.logsTruncated };
  }

  async list(owner: Principal, query: { functionId?: string; status?: ExecutionStatus; limit?: number; cursor?: string }): Promise<Page<Execution>> {
    if (query.functionId !== undefined) await this.#functions.get(owner, query.functionId);
    // What the database takes now is written first; what it does not (locked, disk full) is merged in.
    await this.#writer.flush();
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const q = { ownerId: owner.userId, functionId: query.functionId, status: query.status, limit: limit + 1, after };
    const rows = withWaiting(await this.#repo.list(q), this.#writer.waiting(), q);
    const items = rows.slice(0, limit).map(toExecution);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null };
  }
}
