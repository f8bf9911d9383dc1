import { sql } from 'kysely';
import type { StoreConfig } from '../config/options.ts';
import type { Store } from '../core/ports/store.ts';
import { ApiKeyRepository } from './api-keys.ts';
import { openDatabase, type Db } from './db.ts';
import { ExecutionRepository } from './executions.ts';
import { FunctionObjectRepository } from './function-objects.ts';
import { FunctionRepository } from './functions.ts';
import { RouteRepository } from './routes.ts';
import { SecretRepository } from './secrets.ts';
import { SyncRecordInserter } from './sqlite/sync-record-inserter.ts';
import { UserRepository } from './users.ts';

export type { Store };

/** Opens (and migrates) the store a configuration names. */
export async function openStore(config: StoreConfig): Promise<Store> {
  return (await openSqliteStore(config.path)).store;
}

/** The SQLite store and, for the store's own tests only, its Kysely handle. */
export async function openSqliteStore(file: string): Promise<{ store: Store; db: Db }> {
  const { db, raw, gate } = await openDatabase(file);
  const store: Store = {
    users: new UserRepository(db),
    apiKeys: new ApiKeyRepository(db),
    functions: new FunctionRepository(db),
    executions: new ExecutionRepository(db, new SyncRecordInserter(raw, gate)),
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
    close: () => db.destroy(),
  };
  return { store, db };
}
