import type { Transaction } from 'kysely';
import { StoreUnavailableError } from '../../core/ports/store.ts';
import type { Db } from '../db.ts';
import type { Database } from '../schema.ts';

type Work = { run: (trx: Transaction<Database>) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * Group commit: writes requested in the same event-loop turn share one transaction, so they share one
 * fsync (with synchronous=FULL every commit is one). Each write runs in its own savepoint, so a write
 * that throws is rolled back alone; callers are answered only after the commit is durable.
 */
export class GroupCommitter {
  readonly #db: Db;
  #queue: Work[] = [];
  #scheduled = false;
  #seq = 0;

  constructor(db: Db) {
    this.#db = db;
  }

  run<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run: work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    this.#scheduled = false;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      const trx = await this.#db.startTransaction().execute();
      try {
        for (const work of batch) {
          const name = `w${++this.#seq}`;
          const sp = await trx.savepoint(name).execute();
          try {
            const value = await work.run(sp);
            await sp.releaseSavepoint(name).execute();
            outcomes.push({ ok: true, value });
          } catch (error) {
            // A full disk may have ended the whole transaction (SQLite rolls it back): the batch fails with it.
            if (error instanceof StoreUnavailableError) throw error;
            await sp.rollbackToSavepoint(name).execute();
            outcomes.push({ ok: false, error });
          }
        }
        await trx.commit().execute();
      } catch (error) {
        await trx.rollback().execute().catch(() => {});
        throw error;
      }
    } catch (error) {
      for (const work of batch) work.reject(error);
      return;
    }
    batch.forEach((work, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) work.resolve(outcome.value);
      else work.reject(outcome.error);
    });
  }
}
