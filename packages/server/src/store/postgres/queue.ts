import { sql } from 'kysely';
import type { InsertReport } from '../../core/ports/store.ts';
import type { Db } from '../db.ts';
import type { ExecutionsTable } from '../schema.ts';
import { EXECUTION_COLUMNS } from '../execution-columns.ts';
import { describe, isConstraint, isFull } from './errors.ts';

/** PostgreSQL's limit is 65,535 parameters a statement: rows a multi-row INSERT takes at most. */
const ROWS_PER_INSERT = Math.floor(65_535 / EXECUTION_COLUMNS.length);

/**
 * Takes up to `max` available queued executions in one statement. SKIP LOCKED: rows another worker's
 * lease is taking right now are passed over instead of waited for, so concurrent leases get disjoint sets.
 */
export async function leaseSkipLocked(db: Db, workerId: string, now: number, max: number, leaseMs: number, ownerId?: string): Promise<ExecutionsTable[]> {
  const owner = ownerId === undefined ? sql`` : sql`and owner_id = ${ownerId}`;
  // MATERIALIZED: the candidates are chosen (and locked) once; as an IN (subquery) the planner may run it again per row and take more than `max`.
  const { rows } = await sql<ExecutionsTable>`
    with next as materialized (
      select id from executions where status = 'queued' ${owner} and available_at <= ${now}
      order by available_at, created_at limit ${max} for update skip locked
    )
    update executions e set status = 'running', lease_owner = ${workerId}, lease_expires_at = ${now + leaseMs}, attempts = e.attempts + 1, started_at = ${new Date(now).toISOString()}
    from next where e.id = next.id
    returning e.*`.execute(db);
  return rows.sort((a, b) => a.available_at - b.available_at || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
}

/**
 * Finished records in one transaction of multi-row INSERTs. PostgreSQL aborts the whole transaction at a
 * broken constraint (not just the statement, as SQLite does), so a batch that fails on one is written
 * again row by row, each in its own savepoint: the bad row is rejected alone. Anything else (the server
 * gone, a full disk) defers the whole batch; nothing of it was committed.
 */
export async function insertFinishedBatch(db: Db, rows: readonly ExecutionsTable[]): Promise<InsertReport> {
  if (rows.length === 0) return { written: 0, rejected: [], deferred: null };
  const deferred = (err: unknown): InsertReport => ({ written: 0, rejected: [], deferred: { ids: rows.map((r) => r.id), reason: isFull(err) ? 'the disk is full' : describe(err) } });
  try {
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await trx.insertInto('executions').values(rows.slice(i, i + ROWS_PER_INSERT)).execute();
    });
    return { written: rows.length, rejected: [], deferred: null };
  } catch (err) {
    if (!isConstraint(err)) return deferred(err);
  }
  try {
    const rejected = await rowByRow(db, rows);
    return { written: rows.length - rejected.length, rejected, deferred: null };
  } catch (err) {
    return deferred(err);
  }
}

async function rowByRow(db: Db, rows: readonly ExecutionsTable[]): Promise<InsertReport['rejected']> {
  const rejected: InsertReport['rejected'] = [];
  const trx = await db.startTransaction().execute();
  try {
    for (const [i, row] of rows.entries()) {
      const sp = await trx.savepoint(`r${i}`).execute();
      try {
        await sp.insertInto('executions').values(row).execute();
        await sp.releaseSavepoint(`r${i}`).execute();
      } catch (err) {
        if (!isConstraint(err)) throw err;
        await sp.rollbackToSavepoint(`r${i}`).execute();
        rejected.push({ id: row.id, error: describe(err) });
      }
    }
    await trx.commit().execute();
  } catch (err) {
    await trx.rollback().execute().catch(() => {});
    throw err;
  }
  return rejected;
}
