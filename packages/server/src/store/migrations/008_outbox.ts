import { type Kysely } from 'kysely';
import { isPostgres } from './dialect.ts';

/** Messages written in the same transaction as the change they announce (execution queued → the bus). */
export async function up(db: Kysely<unknown>): Promise<void> {
  const table = db.schema.createTable('outbox');
  const withId = isPostgres(db) ? table.addColumn('id', 'bigserial', (c) => c.primaryKey()) : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  await withId
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('outbox').execute();
}
