import { openDatabase, type Db } from './db.ts';
import { SyncRecordInserter } from './sync-record-inserter.ts';
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
  const { db, raw } = await openDatabase(file);
  return {
    db,
    users: new UserRepository(db),
    apiKeys: new ApiKeyRepository(db),
    functions: new FunctionRepository(db),
    executions: new ExecutionRepository(db, new SyncRecordInserter(raw)),
    secrets: new SecretRepository(db),
    objects: new FunctionObjectRepository(db),
    routes: new RouteRepository(db),
    close: () => db.destroy(),
  };
}
