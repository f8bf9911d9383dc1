import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.ts';
import { describe, isUnreachable, PostgresUnreachableError } from './errors.ts';

const INT8_OID = 20;

/**
 * 64-bit integers (epoch ms, sizes, counts, the outbox's serial) come back as numbers: node-postgres
 * gives strings by default, and every value stored here is below 2^53.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

export interface PostgresHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
}

/**
 * A pool of `poolSize` connections and its Kysely handle. Checks once that the server answers, so a
 * wrong URL or a database that is down fails here with PostgresUnreachableError, not at the first request.
 */
export async function openPostgres(url: string, poolSize: number, onError: (message: string) => void = () => {}): Promise<PostgresHandle> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle connection the server drops (restart, failover) is reported here; without a listener it would crash the process.
  pool.on('error', (err) => onError(`PostgreSQL connection lost: ${describe(err)}`));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw isUnreachable(err) ? new PostgresUnreachableError(url, err) : err;
  }
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool };
}
