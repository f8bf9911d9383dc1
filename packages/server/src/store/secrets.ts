import type { Db } from './db.ts';
import type { SecretsTable } from './schema.ts';
import type { SecretMeta } from '../core/types.ts';
import type { SecretStore } from '../core/ports/store.ts';
import { isNameTaken } from './constraints.ts';

export type { SecretMeta };

const toMeta = (r: Pick<SecretsTable, 'id' | 'name' | 'created_at' | 'updated_at'>): SecretMeta => ({ id: r.id, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at });

/** Encrypted secrets; the repository never sees a plaintext value. */
export class SecretRepository implements SecretStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** undefined when the owner already has a secret with this name (in any case). */
  async create(input: { id: string; ownerId: string; name: string; ciphertext: string; createdAt: string }): Promise<SecretMeta | undefined> {
    const row: SecretsTable = { id: input.id, owner_id: input.ownerId, name: input.name, name_key: input.name.toLowerCase(), ciphertext: input.ciphertext, created_at: input.createdAt, updated_at: input.createdAt };
    const taken = await this.#db.selectFrom('secrets').select('id').where('owner_id', '=', row.owner_id).where('name_key', '=', row.name_key).executeTakeFirst();
    if (taken !== undefined) return undefined;
    try {
      await this.#db.insertInto('secrets').values(row).execute();
    } catch (err) {
      if (isNameTaken(err, 'secrets_owner_name', 'secrets.owner_id, secrets.name_key')) return undefined;
      throw err;
    }
    return toMeta(row);
  }

  async list(ownerId: string): Promise<SecretMeta[]> {
    const rows = await this.#db.selectFrom('secrets').select(['id', 'name', 'created_at', 'updated_at']).where('owner_id', '=', ownerId).orderBy('name_key').execute();
    return rows.map(toMeta);
  }

  async get(ownerId: string, id: string): Promise<SecretMeta | undefined> {
    const row = await this.#db.selectFrom('secrets').select(['id', 'name', 'created_at', 'updated_at']).where('owner_id', '=', ownerId).where('id', '=', id).executeTakeFirst();
    return row && toMeta(row);
  }

  /** Ciphertexts of the named secrets of this owner (by lower-case name). */
  async ciphertexts(ownerId: string, nameKeys: string[]): Promise<Array<{ name: string; nameKey: string; ciphertext: string; updatedAt: string }>> {
    if (nameKeys.length === 0) return [];
    const rows = await this.#db.selectFrom('secrets').select(['name', 'name_key', 'ciphertext', 'updated_at']).where('owner_id', '=', ownerId).where('name_key', 'in', nameKeys).execute();
    return rows.map((r) => ({ name: r.name, nameKey: r.name_key, ciphertext: r.ciphertext, updatedAt: r.updated_at }));
  }

  async update(ownerId: string, id: string, ciphertext: (name: string) => string, at: string): Promise<SecretMeta | undefined> {
    const row = await this.#db.selectFrom('secrets').select(['name']).where('owner_id', '=', ownerId).where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    await this.#db.updateTable('secrets').set({ ciphertext: ciphertext(row.name), updated_at: at }).where('id', '=', id).where('owner_id', '=', ownerId).execute();
    return this.get(ownerId, id);
  }

  async delete(ownerId: string, id: string): Promise<boolean> {
    const res = await this.#db.deleteFrom('secrets').where('owner_id', '=', ownerId).where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
