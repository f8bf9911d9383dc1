import { sql, type Kysely } from 'kysely';
import { isPostgres } from './dialect.ts';

/**
 * Epoch-millisecond columns and byte sizes need 64 bits: PostgreSQL's `integer` is 32-bit (it ends in
 * 2038 for seconds and at 24 days for ms deltas; objects may be 64 GiB), and its `real` is a 4-byte float.
 * SQLite's INTEGER and REAL are already 64-bit, so there this migration changes nothing.
 */
const BIGINT: Array<[table: string, column: string]> = [
  ['executions', 'available_at'],
  ['executions', 'lease_expires_at'],
  ['executions', 'timeout_ms'],
  ['function_objects', 'size'],
  ['function_versions', 'code_size'],
  ['function_versions', 'timeout_ms'],
  ['function_versions', 'stream_idle_timeout_ms'],
  ['gateway_state', 'generation'],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const [table, column] of BIGINT) await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(column)} TYPE bigint`.execute(db);
  await sql`ALTER TABLE executions ALTER COLUMN duration_ms TYPE double precision`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const [table, column] of BIGINT) await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(column)} TYPE integer`.execute(db);
  await sql`ALTER TABLE executions ALTER COLUMN duration_ms TYPE real`.execute(db);
}
