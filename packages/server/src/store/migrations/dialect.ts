import { PostgresAdapter, type Kysely } from 'kysely';

/** Migrations are shared by every backend; the few statements that differ ask which one runs them. */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
