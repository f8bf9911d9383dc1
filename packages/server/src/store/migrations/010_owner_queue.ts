import type { Kysely } from 'kysely';

/** The async queue by owner: the owners with queued work (a skip scan) and each owner's oldest, for leasing round-robin. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('executions_owner_queue').on('executions').columns(['status', 'owner_id', 'available_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('executions_owner_queue').execute();
}
