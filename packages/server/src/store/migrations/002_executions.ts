import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('function_versions').addColumn('concurrency', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('function_versions').addColumn('max_instances', 'integer', (c) => c.notNull().defaultTo(10)).execute();
  await db.schema.alterTable('function_versions').addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(3)).execute();

  await db.schema
    .createTable('executions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('function_id', 'text', (c) => c.notNull())
    .addColumn('function_name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('logs', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('logs_truncated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('duration_ms', 'real')
    .addColumn('cold_start', 'integer')
    .addColumn('instance_id', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('available_at', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'integer')
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema.createIndex('executions_owner_created').on('executions').columns(['owner_id', 'created_at']).execute();
  await db.schema.createIndex('executions_function_created').on('executions').columns(['function_id', 'created_at']).execute();
  await db.schema.createIndex('executions_queue').on('executions').columns(['status', 'available_at']).execute();
  await db.schema.createIndex('executions_idempotency').on('executions').columns(['owner_id', 'idempotency_key']).unique().where('idempotency_key', 'is not', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('executions').execute();
}
