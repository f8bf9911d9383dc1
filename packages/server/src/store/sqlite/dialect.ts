import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from 'kysely';
import { BUSY_TIMEOUT_MS, BusyGate } from './busy-gate.ts';
import { asStoreError, isBusy } from './errors.ts';
import { StoreUnavailableError } from '../../core/ports/store.ts';

/**
 * Kysely's SqliteDialect speaks the better-sqlite3 shape (positional parameter arrays, a `reader` flag);
 * this adapts node:sqlite's DatabaseSync to it so the embedded store needs no native addon.
 */
class StatementAdapter {
  readonly reader: boolean;
  readonly #stmt: StatementSync;
  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
    this.reader = stmt.columns().length > 0;
  }
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#stmt.all(...(parameters as SQLInputValue[]));
  }
  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    return this.#stmt.run(...(parameters as SQLInputValue[]));
  }
  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#stmt.iterate(...(parameters as SQLInputValue[])) as IterableIterator<unknown>;
  }
}

const isRead = (query: CompiledQuery): boolean => query.query.kind === 'SelectQueryNode' || (query.query.kind === 'RawNode' && /^\s*select\b/i.test(query.sql));

/**
 * Statements outside a transaction, and the BEGIN IMMEDIATE of one, wait at the gate while another
 * process holds the write lock. Inside a transaction this connection holds the lock already (or only
 * reads), so statements run as they come. A full disk becomes the port's StoreUnavailableError.
 */
class GatedConnection implements DatabaseConnection {
  readonly #inner: DatabaseConnection;
  readonly #raw: DatabaseSync;
  readonly #gate: BusyGate;
  constructor(inner: DatabaseConnection, raw: DatabaseSync, gate: BusyGate) {
    this.#inner = inner;
    this.#raw = raw;
    this.#gate = gate;
  }
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      if (this.#raw.isTransaction || isRead(query)) return await this.#inner.executeQuery<R>(query);
      return await this.#gate.write(() => this.#inner.executeQuery<R>(query));
    } catch (err) {
      if (isBusy(err)) throw new StoreUnavailableError('busy', { cause: err });
      throw asStoreError(err);
    }
  }
  streamQuery<R>(query: CompiledQuery, chunkSize = 1): AsyncIterableIterator<QueryResult<R>> {
    return this.#inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * Write transactions begin IMMEDIATE: the write lock is taken (or waited for) up front, never halfway
 * through, where SQLite could only fail the transaction (a deferred one that read a snapshot another
 * process has since written past cannot upgrade). Read-only ones stay deferred and never wait.
 */
class GatedDriver extends SqliteDriver implements Driver {
  readonly #raw: DatabaseSync;
  readonly #gate: BusyGate;
  #connection: GatedConnection | undefined;
  constructor(config: ConstructorParameters<typeof SqliteDriver>[0], raw: DatabaseSync, gate: BusyGate) {
    super(config);
    this.#raw = raw;
    this.#gate = gate;
  }
  override async acquireConnection(): Promise<DatabaseConnection> {
    this.#connection ??= new GatedConnection(await super.acquireConnection(), this.#raw, this.#gate);
    return this.#connection;
  }
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin' : 'begin immediate'));
  }
  /** SQLite has already rolled back a transaction a full disk or an I/O error ended. */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.#raw.isTransaction) await super.rollbackTransaction(connection);
  }
}

class GatedDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDriver>[0];
  readonly #raw: DatabaseSync;
  readonly #gate: BusyGate;
  constructor(config: ConstructorParameters<typeof SqliteDriver>[0], raw: DatabaseSync, gate: BusyGate) {
    super(config);
    this.#config = config;
    this.#raw = raw;
    this.#gate = gate;
  }
  override createDriver(): Driver {
    return new GatedDriver(this.#config, this.#raw, this.#gate);
  }
}

/**
 * Commits on this connection are durable (WAL, synchronous=FULL: a committed write survives a power
 * cut). The one exception is a batch of finished sync records (see SyncRecordInserter). SQLite's own
 * busy wait blocks the event loop, so it is kept to a few milliseconds; a lock held longer is waited
 * for at the gate (BusyGate), asynchronously.
 */
export function openSqlite(file: string): { dialect: SqliteDialect; raw: DatabaseSync; gate: BusyGate } {
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
  const cache = new Map<string, StatementAdapter>();
  const database = {
    close: () => raw.close(),
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        stmt = new StatementAdapter(raw.prepare(sql));
        if (cache.size > 500) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
  return { dialect: new GatedDialect({ database }, raw, gate), raw, gate };
}
