import { openDatabase, openRelaxedConnection, type Db } from './db.ts';
import { UserRepository } from './users.ts';
import { ApiKeyRepository } from './api-keys.ts';
import { FunctionRepository } from './functions.ts';
import { ExecutionRepository } from './executions.ts';
import { SecretRepository } from './secrets.ts';
import { FunctionObjectRepository } from './function-objects.ts';
import { RouteRepository } from './routes.ts';

/** All repositories over one database handle. Nothing outside store/ writes SQL. */
export interface Store {
  readonly db: Db;
  readonly users: UserRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly functions: FunctionRepository;
  readonly executions: ExecutionRepository;
  readonly secrets: SecretRepository;
  readonly objects: FunctionObjectRepository;
  readonly routes: RouteRepository;
  close(): Promise<void>;
}

export async function openStore(file: string): Promise<Store> {
  const db = await openDatabase(file);
  const relaxed = file === ':memory:' ? db : openRelaxedConnection(file);
  return {
    db,
    users: new UserRepository(db),
    apiKeys: new ApiKeyRepository(db),
    functions: new FunctionRepository(db),
    executions: new ExecutionRepository(db, relaxed),
    secrets: new SecretRepository(db),
    objects: new FunctionObjectRepository(db),
    routes: new RouteRepository(db),
    close: async () => {
      if (relaxed !== db) await relaxed.destroy();
      await db.destroy();
    },
  };
}
