import type { Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './schema.ts';

/** How a repository runs a write: in a transaction of its own, or sharing one (sqlite/group-commit.ts). */
export interface WriteRunner {
  run<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
}

/** A transaction per write. */
export class Transactions implements WriteRunner {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  run<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(work);
  }
}
