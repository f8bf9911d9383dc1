import { DatabaseSync } from 'node:sqlite';
import type { Dialect } from 'kysely';
import { BUSY_TIMEOUT_MS, BusyGate } from './busy-gate.ts';
import { NodeSqliteDialect, NodeSqliteDriver, type Prepared } from './driver.ts';

/**
 * Commits on this connection are durable (WAL, synchronous=FULL: a committed write survives a power
 * cut). The one exception is a batch of finished sync records (see SyncRecordInserter). SQLite's own
 * busy wait blocks the event loop (node:sqlite is synchronous), so it is kept to a few milliseconds; a
 * lock another process holds longer is waited for at the gate (BusyGate), asynchronously.
 */
export function openSqlite(file: string): { dialect: Dialect; raw: DatabaseSync; gate: BusyGate } {
  const raw = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
  raw.exec('PRAGMA journal_mode = WAL');
  raw.exec('PRAGMA synchronous = FULL');
  raw.exec('PRAGMA foreign_keys = ON');
  raw.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const gate = new BusyGate(() => {
    // Inside a transaction of ours the answer is unknown: ask again at the next probe.
    if (raw.isTransaction) return false;
    raw.exec('BEGIN IMMEDIATE');
    raw.exec('ROLLBACK');
    return true;
  });
  const cache = new Map<string, Prepared>();
  const prepare = (sql: string): Prepared => {
    let prepared = cache.get(sql);
    if (prepared === undefined) {
      const stmt = raw.prepare(sql);
      prepared = { stmt, reader: stmt.columns().length > 0 };
      if (cache.size > 500) cache.clear();
      cache.set(sql, prepared);
    }
    return prepared;
  };
  return { dialect: new NodeSqliteDialect(() => new NodeSqliteDriver(raw, gate, prepare)), raw, gate };
}
