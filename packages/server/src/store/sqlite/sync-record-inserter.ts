import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { ExecutionsTable } from '../schema.ts';
import { EXECUTION_COLUMNS } from '../execution-columns.ts';
import type { InsertReport } from '../../core/ports/store.ts';
import { BUSY_TIMEOUT_MS, type BusyGate } from './busy-gate.ts';
import { describe, isBusy, isConstraint, isFull } from './errors.ts';

export type { InsertReport };

/** How long a process that is ending waits (blocking: nothing else will run) for a lock another process holds. */
const EXIT_BUSY_TIMEOUT_MS = 2_000;

/**
 * Writes batches of finished sync execution records synchronously, on the main connection, with one
 * prepared positional INSERT (no query building per batch) in one transaction per batch.
 *
 * The batch's commit skips the fsync (synchronous=NORMAL for that commit only, then back to FULL):
 * it survives a crash of the process at once, and a power cut from the next fsynced commit of the
 * connection (any async enqueue, lease or completion) or WAL checkpoint on. Async work never goes this way.
 */
export class SyncRecordInserter {
  readonly #raw: DatabaseSync;
  readonly #gate: BusyGate;
  #insert: StatementSync | null = null;

  constructor(raw: DatabaseSync, gate: BusyGate) {
    this.#raw = raw;
    this.#gate = gate;
  }

  /**
   * Null while a transaction is open on the connection (a Kysely transaction between two awaits):
   * the caller retries on a later turn. `atExit`: the process is ending, so that transaction can never
   * commit (nothing was answered for it); it is rolled back, as closing would, and the rows written.
   * A row that breaks a constraint (its owner was deleted meanwhile) is rejected alone: SQLite aborts
   * that statement, not the transaction. Any other failure (the lock held by another process, a full
   * disk) rolls the batch back and defers all of it.
   */
  insert(rows: ReadonlyArray<ExecutionsTable>, atExit = false): InsertReport | null {
    const raw = this.#raw;
    if (raw.isTransaction) {
      if (!atExit) return null;
      raw.exec('ROLLBACK');
    }
    const deferred = (reason: string): InsertReport => ({ written: 0, rejected: [], deferred: { ids: rows.map((r) => r.id), reason } });
    // Writes are waiting for another process's lock: the gate's probe finds out when it is free.
    if (this.#gate.locked && !atExit) return deferred('the database is locked by another process');
    this.#insert ??= raw.prepare(`INSERT INTO executions (${EXECUTION_COLUMNS.join(', ')}) VALUES (${EXECUTION_COLUMNS.map(() => '?').join(', ')})`);
    const insert = this.#insert;
    const rejected: InsertReport['rejected'] = [];
    const values: SQLInputValue[] = new Array(EXECUTION_COLUMNS.length);
    if (atExit) raw.exec(`PRAGMA busy_timeout = ${EXIT_BUSY_TIMEOUT_MS}`);
    raw.exec('PRAGMA synchronous = NORMAL');
    try {
      raw.exec('BEGIN IMMEDIATE');
      try {
        for (const row of rows) {
          for (let c = 0; c < EXECUTION_COLUMNS.length; c++) values[c] = row[EXECUTION_COLUMNS[c]];
          try {
            insert.run(...values);
          } catch (err) {
            if (!isConstraint(err)) throw err;
            rejected.push({ id: row.id, error: describe(err) });
          }
        }
        raw.exec('COMMIT');
      } catch (err) {
        if (raw.isTransaction) raw.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      if (isBusy(err)) this.#gate.sawBusy();
      return deferred(isBusy(err) ? 'the database is locked by another process' : isFull(err) ? 'the disk is full' : describe(err));
    } finally {
      raw.exec('PRAGMA synchronous = FULL');
      if (atExit) raw.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    return { written: rows.length - rejected.length, rejected, deferred: null };
  }
}
