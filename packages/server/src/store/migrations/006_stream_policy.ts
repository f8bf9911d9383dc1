import { type Kysely } from 'kysely';

/** The stream pool policy of a function version (docs/streams.md). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('function_versions').addColumn('stream_min_free', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('function_versions').addColumn('stream_idle_timeout_ms', 'integer', (c) => c.notNull().defaultTo(900_000)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('function_versions').dropColumn('stream_idle_timeout_ms').execute();
  await db.schema.alterTable('function_versions').dropColumn('stream_min_free').execute();
}
