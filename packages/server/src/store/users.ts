import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { User, Role } from '../core/types.ts';
import type { UsersTable } from './schema.ts';
import type { UserStore } from '../core/ports/store.ts';
import { isNameTaken } from './constraints.ts';
import { isPostgres } from './migrations/dialect.ts';

const toUser = (row: Pick<UsersTable, 'id' | 'username' | 'role' | 'created_at'>): User => ({
  id: row.id,
  username: row.username,
  role: row.role,
  createdAt: row.created_at,
});

export class UserRepository implements UserStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Inserts a user; the first user ever becomes admin. Returns undefined when the username is taken. */
  async create(input: { id: string; username: string; passwordHash: string; createdAt: string }): Promise<User | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      // PostgreSQL: sign-ups take turns, so of two first users exactly one becomes admin.
      if (isPostgres(trx)) await sql`lock table users in share row exclusive mode`.execute(trx);
      const taken = await trx.selectFrom('users').select('id').where('username', '=', input.username).executeTakeFirst();
      if (taken !== undefined) return undefined;
      const any = await trx.selectFrom('users').select('id').limit(1).executeTakeFirst();
      const role: Role = any === undefined ? 'admin' : 'user';
      const row = { id: input.id, username: input.username, password_hash: input.passwordHash, role, created_at: input.createdAt };
      await trx.insertInto('users').values(row).execute();
      return toUser(row);
    }).catch((err: unknown) => {
      if (isNameTaken(err, 'users_username_key', 'users.username')) return undefined;
      throw err;
    });
  }

  async findById(id: string): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').select(['id', 'username', 'role', 'created_at']).where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findCredentials(username: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && { user: toUser(row), passwordHash: row.password_hash };
  }

  async list(): Promise<User[]> {
    const rows = await this.#db.selectFrom('users').select(['id', 'username', 'role', 'created_at']).orderBy('created_at').orderBy('id').execute();
    return rows.map(toUser);
  }
}
