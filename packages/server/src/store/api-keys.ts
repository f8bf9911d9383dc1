import type { Db } from './db.ts';
import type { ApiKeyInfo, Role } from '../core/types.ts';
import type { ApiKeyStore } from '../core/ports/store.ts';

export class ApiKeyRepository implements ApiKeyStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async create(input: { id: string; userId: string; name: string; prefix: string; keyHash: string; createdAt: string }): Promise<ApiKeyInfo> {
    await this.#db
      .insertInto('api_keys')
      .values({ id: input.id, user_id: input.userId, name: input.name, prefix: input.prefix, key_hash: input.keyHash, created_at: input.createdAt, last_used_at: null, revoked_at: null })
      .execute();
    return { id: input.id, name: input.name, prefix: input.prefix, createdAt: input.createdAt, lastUsedAt: null };
  }

  /** The owner of an active key, found by the key's hash. */
  async findActiveByHash(keyHash: string): Promise<{ keyId: string; userId: string; role: Role } | undefined> {
    return this.#db
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.user_id')
      .select(['api_keys.id as keyId', 'users.id as userId', 'users.role as role'])
      .where('api_keys.key_hash', '=', keyHash)
      .where('api_keys.revoked_at', 'is', null)
      .executeTakeFirst();
  }

  async touch(keyId: string, at: string): Promise<void> {
    await this.#db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', keyId).execute();
  }

  async listForUser(userId: string): Promise<ApiKeyInfo[]> {
    const rows = await this.#db
      .selectFrom('api_keys')
      .select(['id', 'name', 'prefix', 'created_at', 'last_used_at'])
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix, createdAt: r.created_at, lastUsedAt: r.last_used_at }));
  }

  /** Revokes a key of this user; false when there is no such active key for them. */
  async revoke(userId: string, keyId: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('id', '=', keyId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
