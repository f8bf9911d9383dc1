import type { Db } from './db.ts';
import type { FunctionObjectsTable } from './schema.ts';
import { isPostgres } from './migrations/dialect.ts';

import type { ObjectInfo } from '../core/types.ts';
import type { NewObject, ObjectStore } from '../core/ports/store.ts';

export type { ObjectInfo };

const toInfo = (r: FunctionObjectsTable): ObjectInfo => ({
  id: r.id, functionId: r.function_id, name: r.name, size: r.size, contentType: r.content_type, checksum: `sha256:${r.sha256}`, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Per-function objects' metadata; the bytes live in files named by object id. */
export class FunctionObjectRepository implements ObjectStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Inserts or replaces by (function, name); returns the id of a replaced object, whose file can then go. */
  async put(object: NewObject): Promise<{ info: ObjectInfo; replacedId: string | null }> {
    const row: FunctionObjectsTable = { id: object.id, owner_id: object.ownerId, function_id: object.functionId, name: object.name, size: object.size, content_type: object.contentType, sha256: object.sha256, created_at: object.createdAt, updated_at: object.createdAt };
    return this.#db.transaction().execute(async (trx) => {
      // Two uploads of one name at once (two control processes): the function's row orders them on PostgreSQL.
      if (isPostgres(trx)) await trx.selectFrom('functions').select('id').where('id', '=', row.function_id).forUpdate().execute();
      const old = await trx.selectFrom('function_objects').select(['id', 'created_at']).where('function_id', '=', row.function_id).where('name', '=', row.name).executeTakeFirst();
      if (old !== undefined) await trx.deleteFrom('function_objects').where('id', '=', old.id).execute();
      const stored = { ...row, created_at: old?.created_at ?? row.created_at };
      await trx.insertInto('function_objects').values(stored).execute();
      return { info: toInfo(stored), replacedId: old?.id ?? null };
    });
  }

  async get(ownerId: string, functionId: string, name: string): Promise<ObjectInfo | undefined> {
    const row = await this.#db.selectFrom('function_objects').selectAll().where('owner_id', '=', ownerId).where('function_id', '=', functionId).where('name', '=', name).executeTakeFirst();
    return row && toInfo(row);
  }

  async list(ownerId: string, functionId: string): Promise<ObjectInfo[]> {
    const rows = await this.#db.selectFrom('function_objects').selectAll().where('owner_id', '=', ownerId).where('function_id', '=', functionId).orderBy('name').execute();
    return rows.map(toInfo);
  }

  async delete(ownerId: string, functionId: string, name: string): Promise<string | undefined> {
    const row = await this.get(ownerId, functionId, name);
    if (row === undefined) return undefined;
    await this.#db.deleteFrom('function_objects').where('id', '=', row.id).execute();
    return row.id;
  }

  /** Ids of every object of a function (to remove their files when it is deleted). */
  async idsOfFunction(functionId: string): Promise<string[]> {
    return (await this.#db.selectFrom('function_objects').select('id').where('function_id', '=', functionId).execute()).map((r) => r.id);
  }
}
