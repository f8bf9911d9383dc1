import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type DatabaseConnection, type DatabaseIntrospector, type Dialect, type DialectAdapter, type Driver, type Kysely, type QueryCompiler, type QueryResult, type TransactionSettings } from 'kysely';
import { StoreUnavailableError } from '../../core/ports/store.ts';
import type { BusyGate } from './busy-gate.ts';
import { asStoreError, isBusy } from './errors.ts';

/** A prepared statement and whether it returns rows (known once, when prepared). */
export interface Prepared {
  stmt: StatementSync;
  reader: boolean;
}

const isRead = (query: CompiledQuery): boolean => query.query.kind === 'SelectQueryNode' || (query.query.kind === 'RawNode' && /^\s*select\b/i.test(query.sql));
const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Kysely over node:sqlite's one synchronous connection. Kysely's own SQLite driver runs one statement
 * at a time behind a mutex, so a write waiting for another process's lock would hold up every read
 * behind it. Here only a transaction excludes the rest (from its BEGIN to its end, nothing else runs on
 * the connection); a write waits at the gate holding nothing, and reads, which WAL never locks, go on.
 *
 * Write transactions begin IMMEDIATE: the write lock is taken (or waited for) up front, never halfway
 * through, where SQLite could only fail the transaction (a deferred one that read a snapshot another
 * process has since written past cannot upgrade). Read-only ones stay deferred and never wait.
 */
export class NodeSqliteDriver implements Driver {
  readonly #raw: DatabaseSync;
  readonly #gate: BusyGate;
  readonly #prepare: (sql: string) => Prepared;
  /** The connection whose transaction is open; null when none is. */
  #owner: SqliteConnection | null = null;
  #released: Array<() => void> = [];

  constructor(raw: DatabaseSync, gate: BusyGate, prepare: (sql: string) => Prepared) {
    this.#raw = raw;
    this.#gate = gate;
    this.#prepare = prepare;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new SqliteConnection(this);
  }

  async releaseConnection(): Promise<void> {}

  async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    const conn = connection as SqliteConnection;
    const begin = async (sql: string): Promise<void> => {
      await this.#take(conn);
      try {
        this.#raw.exec(sql);
      } catch (err) {
        this.#release();
        throw err;
      }
    };
    try {
      if (settings?.accessMode === 'read only') await begin('BEGIN');
      else await this.#gate.write(() => begin('BEGIN IMMEDIATE'));
    } catch (err) {
      throw storeError(err);
    }
  }

  /** A COMMIT that fails may leave the transaction open (the caller rolls it back) or end it (SQLite did). */
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      this.#run(connection as SqliteConnection, CompiledQuery.raw('COMMIT'));
    } finally {
      if (!this.#raw.isTransaction) this.#release();
    }
  }

  /** SQLite has already rolled back a transaction that a full disk or an I/O error ended. */
  async rollbackTransaction(): Promise<void> {
    try {
      if (this.#raw.isTransaction) this.#raw.exec('ROLLBACK');
    } finally {
      this.#release();
    }
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(connection as SqliteConnection, CompiledQuery.raw(`SAVEPOINT ${quoted(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(connection as SqliteConnection, CompiledQuery.raw(`ROLLBACK TO ${quoted(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    this.#run(connection as SqliteConnection, CompiledQuery.raw(`RELEASE ${quoted(name)}`));
  }

  async destroy(): Promise<void> {
    this.#raw.close();
  }

  /** A statement of `conn`: inside its own transaction at once; otherwise once no transaction is open, a write through the gate. */
  async execute<R>(conn: SqliteConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#owner === conn) return this.#run(conn, query);
    try {
      if (isRead(query)) {
        while (this.#owner !== null) await this.#released1();
        return this.#run(conn, query);
      }
      return await this.#gate.write(async () => {
        while (this.#owner !== null) await this.#released1();
        return this.#run<R>(conn, query);
      });
    } catch (err) {
      throw storeError(err);
    }
  }

  #run<R>(conn: SqliteConnection, query: CompiledQuery): QueryResult<R> {
    const { stmt, reader } = this.#prepare(query.sql);
    const parameters = query.parameters as SQLInputValue[];
    try {
      if (reader) return { rows: stmt.all(...parameters) as R[] };
      const { changes, lastInsertRowid } = stmt.run(...parameters);
      return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
    } catch (err) {
      if (this.#owner === conn) throw storeError(err);
      throw err;
    }
  }

  /**
   * Resolves when the open transaction ends. Callers loop on `#owner` themselves and act in the same turn
   * as their last check: awaiting a helper that checked would leave a gap in which another waiter,
   * woken by the same release, begins too (two transactions at once on one connection).
   */
  #released1(): Promise<void> {
    return new Promise<void>((resolve) => this.#released.push(resolve));
  }

  async #take(conn: SqliteConnection): Promise<void> {
    while (this.#owner !== null) await this.#released1();
    this.#owner = conn;
  }

  #release(): void {
    this.#owner = null;
    const waiting = this.#released;
    this.#released = [];
    for (const wake of waiting) wake();
  }
}

/** Errors as the store's port says them: a lock still held after the wait is busy, a full disk full. */
function storeError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  return isBusy(err) ? new StoreUnavailableError('busy', { cause: err }) : asStoreError(err);
}

class SqliteConnection implements DatabaseConnection {
  readonly #driver: NodeSqliteDriver;
  constructor(driver: NodeSqliteDriver) {
    this.#driver = driver;
  }
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.#driver.execute<R>(this, query);
  }
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on the embedded store');
  }
}

/** Connections are cheap handles on the one connection, told apart only while a transaction is open. */
class EmbeddedSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

export class NodeSqliteDialect implements Dialect {
  readonly #driver: () => NodeSqliteDriver;
  constructor(driver: () => NodeSqliteDriver) {
    this.#driver = driver;
  }
  createDriver(): Driver {
    return this.#driver();
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new EmbeddedSqliteAdapter();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
