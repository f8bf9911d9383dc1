import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import type { BusyGate } from './sqlite/busy-gate.ts';
import { openSqlite } from './sqlite/dialect.ts';
import type { Database } from './schema.ts';
import * as m001 from './migrations/001_users_keys_functions.ts';
import * as m002 from './migrations/002_executions.ts';
import * as m003 from './migrations/003_secrets.ts';
import * as m004 from './migrations/004_function_objects.ts';
import * as m005 from './migrations/005_gateway_routes.ts';
import * as m006 from './migrations/006_stream_policy.ts';
import * as m007 from './migrations/007_bigint_columns.ts';
import * as m008 from './migrations/008_outbox.ts';
import * as m009 from './migrations/009_event_shape.ts';
import * as m010 from './migrations/010_owner_queue.ts';
import * as m011 from './migrations/011_cpu_quota.ts';
import * as m012 from './migrations/012_execution_worker.ts';

/** Migrations in order; a new one is appended here and never edited once released. */
const MIGRATIONS: Record<string, Migration> = {
  '001_users_keys_functions': m001,
  '002_executions': m002,
  '003_secrets': m003,
  '004_function_objects': m004,
  '005_gateway_routes': m005,
  '006_stream_policy': m006,
  '007_bigint_columns': m007,
  '008_outbox': m008,
  '009_event_shape': m009,
  '010_owner_queue': m010,
  '011_cpu_quota': m011,
  '012_execution_worker': m012,
};

class StaticMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export type Db = Kysely<Database>;

/**
 * The Kysely handle and, for the few statements that bypass query building, its node:sqlite connection
 * and the gate its writes wait at while another process holds the lock.
 */
export async function openDatabase(file: string): Promise<{ db: Db; raw: DatabaseSync; gate: BusyGate }> {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const { dialect, raw, gate } = openSqlite(file);
  const db = new Kysely<Database>({ dialect });
  await migrate(db);
  return { db, raw, gate };
}

/**
 * Brings a database to the latest migration (the same list for every backend), or destroys the handle
 * and throws. On PostgreSQL, Kysely's migrator takes a lock first: processes starting together migrate once.
 */
export async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticMigrations() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    await db.destroy();
    throw new Error(`Database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`, { cause: error });
  }
}
