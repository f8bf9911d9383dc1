import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { ExecutionsTable } from '../schema.ts';
import { EXECUTION_COLUMNS } from '../execution-columns.ts';

import type { InsertReport } from '../../core/ports/store.ts';

export type { InsertReport };

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
  #insert: StatementSync | null = null;

  constructor(raw: DatabaseSync) {
    this.#raw = raw;
  }

  /**
   * Null while a transaction is open on the connection (a Kysely transaction between two awaits):
   * the caller retries on a later turn. `atExit`: the process is ending, so that transaction can never
   * commit (nothing was answered for it); it is rolled back, as closing would, and the rows written.
   * A row that breaks a constraint (its owner was deleted meanwhile) fails alone: SQLite aborts that
   * statement, not the transaction.
   */
  insert(rows: ReadonlyArray<ExecutionsTable>, atExit = false): InsertReport | null {
    const raw = this.#raw;
    if (raw.isTransaction) {
      if (!atExit) return null;
      raw.exec('ROLLBACK');
    }
    this.#insert ??= raw.prepare(`INSERT INTO executions (${EXECUTION_COLUMNS.join(', ')}) VALUES (${EXECUTION_COLUMNS.map(() => '?').join(', ')})`);
    const insert = this.#insert;
    let failed = 0;
    let error: string | null = null;
    const values: SQLInputValue[] = new Array(EXECUTION_COLUMNS.length);
    raw.exec('PRAGMA synchronous = NORMAL');
    try {
      raw.exec('BEGIN IMMEDIATE');
      try {
        for (const row of rows) {
          for (let c = 0; c < EXECUTION_COLUMNS.length; c++) values[c] = row[EXECUTION_COLUMNS[c]];
          try {
            insert.run(...values);
          } catch (err) {
            failed++;
            error = describe(err);
          }
        }
        raw.exec('COMMIT');
      } catch (err) {
        if (raw.isTransaction) raw.exec('ROLLBACK');
        return { written: 0, failed: rows.length, error: describe(err) };
      }
    } finally {
      raw.exec('PRAGMA synchronous = FULL');
    }
    return { written: rows.length - failed, failed, error };
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
