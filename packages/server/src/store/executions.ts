import { sql } from 'kysely';
import type { Db } from './db.ts';
import { GroupCommitter } from './group-commit.ts';
import type { InsertReport, SyncRecordInserter } from './sync-record-inserter.ts';
import type { ExecutionsTable } from './schema.ts';
import type { Execution, ExecutionError, ExecutionStatus } from '../core/types.ts';
import { executionError } from '../core/invocation.ts';
import { faultOf, isExecutionReason, type ExecutionReason } from '../core/execution-reasons.ts';

export type ExecutionRow = ExecutionsTable;

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** A stored error as the registry says it: errors written before faults existed get theirs from the reason. */
function errorOf(text: string | null): ExecutionError | null {
  const raw = parse(text) as { reason?: string; fault?: string; message?: string; stack?: string } | null;
  if (raw === null) return null;
  const first = /^[a-z_]+/.exec(raw.reason ?? '')?.[0] ?? '';
  const reason: ExecutionReason = isExecutionReason(first) ? first : 'platform_error';
  const error: ExecutionError = { reason, fault: faultOf(reason), message: raw.message ?? '' };
  if (raw.stack !== undefined) error.stack = raw.stack;
  return error;
}

export function toExecution(r: ExecutionRow): Execution {
  return {
    id: r.id,
    ownerId: r.owner_id,
    functionId: r.function_id,
    functionName: r.function_name,
    version: r.version,
    mode: r.mode,
    status: r.status as ExecutionStatus,
    input: parse(r.input),
    result: parse(r.result),
    error: errorOf(r.error),
    logsTruncated: r.logs_truncated === 1,
    durationMs: r.duration_ms,
    coldStart: r.cold_start === null ? null : r.cold_start === 1,
    instanceId: r.instance_id,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export interface ListQuery {
  ownerId: string;
  functionId?: string;
  status?: ExecutionStatus;
  limit: number;
  /** Opaque cursor from a previous page: created_at and id of its last row. */
  after?: { createdAt: string; id: string };
}

/** The end of a run, as written to the record. */
export interface Outcome {
  status: ExecutionStatus;
  result: unknown;
  error: ExecutionError | null;
  logs: string;
  logsTruncated: boolean;
  durationMs: number;
  coldStart: boolean | null;
  instanceId: string | null;
  startedAt: string;
  finishedAt: string;
}

export const outcomeColumns = (o: Outcome) => ({
  status: o.status,
  result: o.result === undefined ? null : JSON.stringify(o.result),
  error: o.error === null ? null : JSON.stringify(o.error),
  logs: o.logs,
  logs_truncated: o.logsTruncated ? 1 : 0,
  duration_ms: o.durationMs,
  cold_start: o.coldStart === null ? null : o.coldStart ? 1 : 0,
  instance_id: o.instanceId,
  started_at: o.startedAt,
  finished_at: o.finishedAt,
});

export class ExecutionRepository {
  readonly #db: Db;
  readonly #group: GroupCommitter;
  readonly #records: SyncRecordInserter;
  constructor(db: Db, records: SyncRecordInserter) {
    this.#db = db;
    this.#records = records;
    this.#group = new GroupCommitter(db);
  }

  /**
   * Records accepted async work. With an idempotency key, an earlier execution with the same key is
   * returned instead (`existing`), whatever its state; the caller compares request hashes.
   */
  async insertQueued(row: ExecutionRow): Promise<{ row: ExecutionRow; existing: boolean }> {
    return this.#group.run(async (trx) => {
      if (row.idempotency_key !== null) {
        const found = await trx.selectFrom('executions').selectAll().where('owner_id', '=', row.owner_id).where('idempotency_key', '=', row.idempotency_key).executeTakeFirst();
        if (found !== undefined) return { row: found, existing: true };
      }
      await trx.insertInto('executions').values(row).execute();
      return { row, existing: false };
    });
  }

  /**
   * Writes a batch of finished sync executions now (see SyncRecordInserter for what a commit of them
   * guarantees); null when the connection is inside a transaction, to be retried on a later turn.
   */
  tryInsertFinished(rows: ReadonlyArray<ExecutionRow>, atExit = false): InsertReport | null {
    return rows.length === 0 ? { written: 0, failed: 0, error: null } : this.#records.insert(rows, atExit);
  }

  /** Atomically takes up to `max` of the oldest available queued executions for this worker. */
  async lease(workerId: string, now: number, max: number, leaseMsFor: (row: ExecutionRow) => number): Promise<ExecutionRow[]> {
    return this.#group.run(async (trx) => {
      const next = await trx
        .selectFrom('executions')
        .selectAll()
        .where('status', '=', 'queued')
        .where('available_at', '<=', now)
        .orderBy('available_at')
        .orderBy('created_at')
        .limit(max)
        .execute();
      const leased: ExecutionRow[] = [];
      for (const row of next) {
        const taken = await trx
          .updateTable('executions')
          .set({ status: 'running', lease_owner: workerId, lease_expires_at: now + leaseMsFor(row), attempts: row.attempts + 1, started_at: new Date(now).toISOString() })
          .where('id', '=', row.id)
          .where('status', '=', 'queued')
          .returningAll()
          .executeTakeFirst();
        if (taken !== undefined) leased.push(taken);
      }
      return leased;
    });
  }

  /** Extends a running execution's lease; false when this worker no longer holds it. */
  async renew(id: string, workerId: string, leaseExpiresAt: number): Promise<boolean> {
    const res = await this.#db
      .updateTable('executions')
      .set({ lease_expires_at: leaseExpiresAt })
      .where('id', '=', id)
      .where('lease_owner', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Ends a leased execution; a no-op (false) when the lease was lost to another worker. */
  async finishLeased(id: string, workerId: string, outcome: Outcome): Promise<boolean> {
    const res = await this.#group.run((trx) => trx
      .updateTable('executions')
      .set({ ...outcomeColumns(outcome), lease_owner: null, lease_expires_at: null })
      .where('id', '=', id)
      .where('lease_owner', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst());
    return Number(res.numUpdatedRows) > 0;
  }

  /** Puts a leased execution back in the queue for a retry at `availableAt`, keeping what the last attempt said. */
  async requeue(id: string, workerId: string, availableAt: number, lastError: ExecutionError | null, logs: string, refundAttempt = false): Promise<boolean> {
    const res = await this.#group.run((trx) => trx
      .updateTable('executions')
      .set((eb) => ({ status: 'queued', available_at: availableAt, lease_owner: null, lease_expires_at: null, ...(refundAttempt ? { attempts: eb('attempts', '-', 1) } : { error: lastError === null ? null : JSON.stringify(lastError), logs }) }))
      .where('id', '=', id)
      .where('lease_owner', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst());
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * Leases that outlived their deadline (a worker died): back to the queue, or dead-lettered when out
   * of attempts. `everyLease` reclaims all running leases — for a single-process platform at start,
   * where no other worker can hold one.
   */
  async reclaimExpired(now: number, everyLease = false): Promise<number> {
    const expiry = everyLease ? Number.MAX_SAFE_INTEGER : now;
    const reason = JSON.stringify(executionError('lease_expired', 'The worker running this execution stopped before it finished'));
    const dead = await this.#db
      .updateTable('executions')
      .set({ status: 'dead_lettered', lease_owner: null, lease_expires_at: null, error: reason, finished_at: new Date(now).toISOString() })
      .where('status', '=', 'running')
      .where('mode', '=', 'async')
      .where('lease_expires_at', '<', expiry)
      .where(sql<boolean>`attempts >= max_attempts`)
      .executeTakeFirst();
    const back = await this.#db
      .updateTable('executions')
      .set({ status: 'queued', lease_owner: null, lease_expires_at: null, available_at: now, error: reason })
      .where('status', '=', 'running')
      .where('mode', '=', 'async')
      .where('lease_expires_at', '<', expiry)
      .executeTakeFirst();
    return Number(dead.numUpdatedRows) + Number(back.numUpdatedRows);
  }

  async get(ownerId: string, id: string): Promise<ExecutionRow | undefined> {
    return this.#db.selectFrom('executions').selectAll().where('id', '=', id).where('owner_id', '=', ownerId).executeTakeFirst();
  }

  async list(q: ListQuery): Promise<ExecutionRow[]> {
    let query = this.#db.selectFrom('executions').selectAll().where('owner_id', '=', q.ownerId);
    if (q.functionId !== undefined) query = query.where('function_id', '=', q.functionId);
    if (q.status !== undefined) query = query.where('status', '=', q.status);
    if (q.after !== undefined) {
      const { createdAt, id } = q.after;
      query = query.where((eb) => eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)])]));
    }
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
  }

  async countQueued(): Promise<number> {
    const row = await this.#db.selectFrom('executions').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'queued').executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}
