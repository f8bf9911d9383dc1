import type { Kysely } from 'kysely';

/** What the gateway sends a function: per version ('http' or 'body'), and per route (null: the function's). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('function_versions').addColumn('event_shape', 'text', (c) => c.notNull().defaultTo('http')).execute();
  await db.schema.alterTable('function_routes').addColumn('event_shape', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('function_routes').dropColumn('event_shape').execute();
  await db.schema.alterTable('function_versions').dropColumn('event_shape').execute();
}
