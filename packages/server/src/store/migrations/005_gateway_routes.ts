import type { Kysely } from 'kysely';

/** HTTP routes and public names of functions (the gateway's data), and the counter gateways poll. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('function_routes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('function_id', 'text', (c) => c.notNull().references('functions.id').onDelete('cascade'))
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('shape', 'text', (c) => c.notNull())
    .addColumn('auth', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    // The same method on the same shape is a conflict for every owner; ANY overlaps are checked in the write.
    .addUniqueConstraint('function_routes_method_shape', ['method', 'shape'])
    .execute();
  await db.schema.createIndex('function_routes_function').on('function_routes').column('function_id').execute();
  await db.schema.createIndex('function_routes_shape').on('function_routes').column('shape').execute();

  await db.schema
    .createTable('public_functions')
    // Lower-cased: public names differing only in case would invite look-alike impersonation.
    .addColumn('name_key', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('function_id', 'text', (c) => c.notNull().unique().references('functions.id').onDelete('cascade'))
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('gateway_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('generation', 'integer', (c) => c.notNull())
    .execute();
  await db.insertInto('gateway_state' as never).values({ id: 1, generation: 0 } as never).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['gateway_state', 'public_functions', 'function_routes']) await db.schema.dropTable(table).execute();
}
