import type { Kysely } from 'kysely';

/** A version's own CPU quota (percent of one core); null: derived from its memory (docs/sandbox.md#cpu). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('function_versions').addColumn('cpu_quota_percent', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('function_versions').dropColumn('cpu_quota_percent').execute();
}
