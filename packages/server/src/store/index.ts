import { sql } from 'kysely';
import type { StoreConfig } from '../config/options.ts';
import type { Store } from '../core/ports/store.ts';
import { ApiKeyRepository } from './api-keys.ts';
import { migrate, openDatabase, type Db } from './db.ts';
import { ExecutionRepository } from './executions.ts';
import { FunctionObjectRepository } from './function-objects.ts';
import { FunctionRepository } from './functions.ts';
import { PgNotifications } from './postgres/notifications.ts';
import { openPostgres } from './postgres/pool.ts';
import { RouteRepository } from './routes.ts';
import { SecretRepository } from './secrets.ts';
import { SyncRecordInserter } from './sqlite/sync-record-inserter.ts';
import { UserRepository } from './users.ts';

export type { Store };
export { openStoreWithRetry } from './open-retry.ts';

/** A store as opened: with PostgreSQL, also LISTEN/NOTIFY between the processes sharing it (null on SQLite). */
export type OpenedStore = Store & { readonly notifications: PgNotifications | null };

/** Opens (and migrates) the store a configuration names. */
export async function openStore(config: StoreConfig, onError?: (message: string) => void): Promise<OpenedStore> {
  if (config.kind === 'postgres') return (await openPostgresStore(config.url, config.poolSize, onError)).store;
  const { store } = await openSqliteStore(config.path);
  return { ...store, notifications: null };
}

/** The SQLite store and, for the store's own tests only, its Kysely handle. */
export async function openSqliteStore(file: string): Promise<{ store: Store; db: Db }> {
  const { db, raw, gate } = await openDatabase(file);
  return { store: repositories(db, new SyncRecordInserter(raw, gate), () => db.destroy()), db };
}

/** The PostgreSQL store (several processes may share it) and, for the store's own tests only, its Kysely handle. */
export async function openPostgresStore(url: string, poolSize: number, onError?: (message: string) => void): Promise<{ store: OpenedStore; db: Db }> {
  const { db, pool } = await openPostgres(url, poolSize, onError);
  await migrate(db);
  const notifications = new PgNotifications(url, pool, onError);
  const store = repositories(db, undefined, async () => {
    await notifications.close();
    await db.destroy();
  });
  return { store: { ...store, notifications }, db };
}

function repositories(db: Db, records: SyncRecordInserter | undefined, close: () => Promise<void>): Store {
  return {
    users: new UserRepository(db),
    apiKeys: new ApiKeyRepository(db),
    functions: new FunctionRepository(db),
    executions: new ExecutionRepository(db, records),
    secrets: new SecretRepository(db),
    objects: new FunctionObjectRepository(db),
    routes: new RouteRepository(db),
    ping: async () => {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close,
  };
}
