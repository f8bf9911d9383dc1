import { createHash } from 'node:crypto';
import { AppError, notFound } from '../core/errors.ts';
import { isId, newTimeOrderedId, nowIso } from '../core/ids.ts';
import type { Execution, ExecutionStatus, FunctionRecord, Principal } from '../core/types.ts';
import type { InvocationContext, InvocationResult, InvocationTarget, Invoker } from '../core/invoker.ts';
import { SecretsUnavailableError, type SecretService } from '../secrets/service.ts';
import { checkSeedInput, objectRefs, requestedSecrets } from './seed-input.ts';
import { toExecution, type ExecutionRepository, type ExecutionRow } from '../store/executions.ts';
import type { FunctionService } from '../functions/service.ts';
import type { SyncRecordWriter } from './sync-writer.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { finishedExecutionRow } from './finished-row.ts';

export interface FunctionRef {
  id?: string;
  name?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const NO_SECRETS: { env: Record<string, string>; digest: string } = Object.freeze({ env: Object.freeze({}), digest: '' });

/** A finished sync invocation, with its result already serialised (the record and the response share it). */
export interface SyncInvocation {
  execution: Execution;
  /** `execution.result` as JSON text ("null" when there is none). */
  resultJson: string;
}

export class ExecutionService {
  readonly #repo: ExecutionRepository;
  readonly #functions: FunctionService;
  readonly #invoker: Invoker;
  readonly #writer: SyncRecordWriter;
  readonly #onQueued: () => void;

  readonly #secrets: SecretService;
  readonly #targets = new WeakMap<FunctionRecord, InvocationTarget>();
  readonly #objectExists: (owner: Principal, functionId: string, name: string) => Promise<boolean>;

  constructor(deps: {
    repo: ExecutionRepository;
    functions: FunctionService;
    invoker: Invoker;
    secrets: SecretService;
    writer: SyncRecordWriter;
    onQueued: () => void;
    objectExists: (owner: Principal, functionId: string, name: string) => Promise<boolean>;
  }) {
    this.#repo = deps.repo;
    this.#objectExists = deps.objectExists;
    this.#secrets = deps.secrets;
    this.#functions = deps.functions;
    this.#invoker = deps.invoker;
    this.#writer = deps.writer;
    this.#onQueued = deps.onQueued;
  }

  async #resolve(owner: Principal, ref: FunctionRef): Promise<FunctionRecord> {
    if (ref.id !== undefined) return this.#functions.get(owner, ref.id);
    if (ref.name !== undefined) return this.#functions.getByName(owner, ref.name);
    throw new AppError('VALIDATION_FAILED', 'functionId is required');
  }

  /**
   * Runs one invocation of this function version: resolves its secrets (failing closed as
   * system_error when they cannot be provided) and hands it to the invoker.
   */
  async run(fn: FunctionRecord, event: unknown, context: Pick<InvocationContext, 'executionId' | 'deadline' | 'mode' | 'eventJson'>): Promise<InvocationResult> {
    const target = await this.target(fn, requestedSecrets(event));
    if ('failure' in target) return target.failure;
    return this.#invoker.invoke(target, event, { ...context, objectRefs: objectRefs(event) });
  }

  /** What the engine needs to run this version, its secrets resolved (failing closed as an invocation result). */
  async target(fn: FunctionRecord, extraSecrets: string[] = []): Promise<InvocationTarget | { failure: InvocationResult }> {
    let secrets: { env: Record<string, string>; digest: string };
    try {
      const names = extraSecrets.length === 0 ? fn.secrets : [...new Set([...fn.secrets, ...extraSecrets])];
      secrets = names.length === 0 ? NO_SECRETS : await this.#secrets.envFor(fn.ownerId, names);
    } catch (err) {
      if (err instanceof AppError) return { failure: { status: 'failed', result: null, error: { reason: 'bad_input', message: err.message }, logs: '', logsTruncated: false, durationMs: 0, coldStart: false, instanceId: null } };
      if (!(err instanceof SecretsUnavailableError)) throw err;
      return { failure: { status: 'system_error', result: null, error: { reason: 'secrets_unavailable', message: err.message }, logs: '', logsTruncated: false, durationMs: 0, coldStart: false, instanceId: null } };
    }
    return this.#target(fn, secrets);
  }

  /** One target per function record (cached records are shared) and set of secrets: built once, not per call. */
  #target(fn: FunctionRecord, secrets: { env: Record<string, string>; digest: string }): InvocationTarget {
    const known = this.#targets.get(fn);
    if (known !== undefined && known.envDigest === secrets.digest) return known;
    const target: InvocationTarget = Object.freeze({
      ownerId: fn.ownerId,
      functionId: fn.id,
      functionName: fn.name,
      version: fn.version,
      runtime: fn.runtime,
      handler: fn.handler,
      codeHash: fn.codeHash,
      codeDir: this.#functions.codeDir(fn.codeHash),
      memoryMb: fn.memoryMb,
      timeoutMs: fn.timeoutMs,
      env: { ...fn.env, ...secrets.env },
      envDigest: secrets.digest,
      concurrency: fn.concurrency,
      maxInstances: fn.maxInstances,
    });
    this.#targets.set(fn, target);
    return target;
  }

  /** Runs the function now and answers with the finished execution record; `via` (for metrics) is how the call arrived, the record says sync either way. */
  async invokeSync(owner: Principal, ref: FunctionRef, event: unknown, via: 'sync' | 'http' = 'sync'): Promise<Execution> {
    return (await this.invokeSyncJson(owner, ref, event, undefined, via)).execution;
  }

  /**
   * `invokeSync`, for callers that hold the event's JSON text (the request body) and want the result
   * as JSON text: neither is serialised again on the way.
   */
  async invokeSyncJson(owner: Principal, ref: FunctionRef, event: unknown, eventJson?: string, via: 'sync' | 'http' = 'sync'): Promise<SyncInvocation> {
    const fn = await this.#resolve(owner, ref);
    await checkSeedInput(owner, event, this.#objectExists);
    const createdMs = Date.now();
    const id = newTimeOrderedId(createdMs);
    const createdAt = nowIso(createdMs);
    const outcome = await this.run(fn, event, { executionId: id, deadline: createdMs + fn.timeoutMs, mode: via, eventJson });
    const finishedAt = nowIso();
    const result = outcome.result ?? null;
    const resultJson = JSON.stringify(result);
    const input = eventJson ?? JSON.stringify(event ?? null);
    this.#writer.add(finishedExecutionRow(fn, { id, mode: 'sync', timeoutMs: fn.timeoutMs, input, outcome, resultJson, createdAt, finishedAt }));
    // Built from the values in hand rather than parsed back from the row: this is the hot path.
    const execution: Execution = {
      id,
      ownerId: fn.ownerId,
      functionId: fn.id,
      functionName: fn.name,
      version: fn.version,
      mode: 'sync',
      status: outcome.status,
      input: event ?? null,
      result,
      error: outcome.error,
      logsTruncated: outcome.logsTruncated,
      durationMs: outcome.durationMs,
      coldStart: outcome.coldStart,
      instanceId: outcome.instanceId,
      attempts: 1,
      maxAttempts: 1,
      createdAt,
      startedAt: createdAt,
      finishedAt,
    };
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
    const input = JSON.stringify(event ?? null);
    const requestHash = createHash('sha256').update(fn.id).update('\0').update(input).digest('hex');
    const row: ExecutionRow = {
      id: newTimeOrderedId(),
      owner_id: fn.ownerId,
      function_id: fn.id,
      function_name: fn.name,
      version: fn.version,
      timeout_ms: fn.timeoutMs,
      mode: 'async',
      status: 'queued',
      input,
      result: null,
      error: null,
      logs: '',
      logs_truncated: 0,
      duration_ms: null,
      cold_start: null,
      instance_id: null,
      attempts: 0,
      max_attempts: fn.maxAttempts,
      available_at: Date.now(),
      lease_owner: null,
      lease_expires_at: null,
      idempotency_key: idempotencyKey ?? null,
      request_hash: requestHash,
      created_at: nowIso(),
      started_at: null,
      finished_at: null,
    };
    const { row: stored, existing } = await this.#repo.insertQueued(row);
    if (existing && stored.request_hash !== requestHash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED');
    }
    if (!existing) this.#onQueued();
    return { execution: toExecution(stored), created: !existing };
  }

  async #row(owner: Principal, id: string): Promise<ExecutionRow> {
    if (!isId(id)) throw notFound('Execution');
    const pending = this.#writer.pending(id);
    const row = pending !== undefined && pending.owner_id === owner.userId ? pending : await this.#repo.get(owner.userId, id);
    if (row === undefined) throw notFound('Execution');
    return row;
  }

  async get(owner: Principal, id: string): Promise<Execution> {
    return toExecution(await this.#row(owner, id));
  }

  async logs(owner: Principal, id: string): Promise<{ executionId: string; logs: string; truncated: boolean }> {
    const row = await this.#row(owner, id);
    return { executionId: row.id, logs: row.logs, truncated: row.logs_truncated === 1 };
  }

  async list(owner: Principal, query: { functionId?: string; status?: ExecutionStatus; limit?: number; cursor?: string }): Promise<Page<Execution>> {
    if (query.functionId !== undefined) await this.#functions.get(owner, query.functionId);
    await this.#writer.flush();
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.#repo.list({ ownerId: owner.userId, functionId: query.functionId, status: query.status, limit: limit + 1, after });
    const items = rows.slice(0, limit).map(toExecution);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null };
  }
}
