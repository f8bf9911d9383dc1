// Worker thread: inserts finished sync execution records over its own connection, so SQLite's work
// (B-tree and index updates, the WAL append) runs beside the event loop instead of on it.
import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { EXECUTION_COLUMNS } from './execution-columns.ts';

const { file } = workerData as { file: string };
const db = new DatabaseSync(file, { timeout: 5000 });
db.exec('PRAGMA journal_mode = WAL');
// Commits skip the fsync: see openSqlite. Only finished sync records come this way.
db.exec('PRAGMA synchronous = NORMAL');
db.exec('PRAGMA foreign_keys = ON');
const insert = db.prepare(`INSERT INTO executions (${EXECUTION_COLUMNS.join(', ')}) VALUES (${EXECUTION_COLUMNS.map(() => '?').join(', ')})`);
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const rollback = db.prepare('ROLLBACK');
/** Rows per transaction: short write locks, so the main connection's durable commits never wait long. */
const CHUNK = 100;

parentPort!.on('message', (message: { seq: number; rows: SQLInputValue[][] } | { close: true }) => {
  if ('close' in message) {
    db.close();
    parentPort!.close();
    return;
  }
  // A row that breaks a constraint (its owner was deleted meanwhile) fails alone: SQLite aborts the
  // statement, not the transaction. Anything else (disk full, lock timeout) fails the chunk.
  let failed = 0;
  let error: string | null = null;
  for (let i = 0; i < message.rows.length; i += CHUNK) {
    const chunk = message.rows.slice(i, i + CHUNK);
    try {
      begin.run();
    } catch (err) {
      failed += chunk.length;
      error = describe(err);
      continue;
    }
    for (const row of chunk) {
      try {
        insert.run(...row);
      } catch (err) {
        failed++;
        error = describe(err);
      }
    }
    try {
      commit.run();
    } catch (err) {
      if (db.isTransaction) rollback.run();
      failed += chunk.length;
      error = describe(err);
    }
  }
  parentPort!.postMessage({ seq: message.seq, failed, error });
});

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
