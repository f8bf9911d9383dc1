import type { Kysely } from 'kysely';

/** The worker (WORKER_ID) whose instance ran an execution; null before it ran, or for records written before this column. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('executions').addColumn('worker_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('executions').dropColumn('worker_id').execute();
}
