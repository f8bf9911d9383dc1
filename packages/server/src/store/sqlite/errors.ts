import { StoreUnavailableError } from '../../core/ports/store.ts';

/** SQLite primary result codes (https://sqlite.org/rescode.html); node:sqlite puts the extended one in `errcode`. */
const SQLITE_BUSY = 5;
const SQLITE_FULL = 13;
const SQLITE_CONSTRAINT = 19;

function primaryCode(err: unknown): number | undefined {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

/** Another connection (another process) holds the lock this statement needs. */
export const isBusy = (err: unknown): boolean => primaryCode(err) === SQLITE_BUSY;

/** The file system is full: nothing of the statement (or its transaction) was written. */
export const isFull = (err: unknown): boolean => primaryCode(err) === SQLITE_FULL;

/** The row breaks a constraint (a foreign key whose row is gone): it can never be written as it is. */
export const isConstraint = (err: unknown): boolean => primaryCode(err) === SQLITE_CONSTRAINT;

/** A full disk as the port's error; anything else unchanged. */
export function asStoreError(err: unknown): unknown {
  return isFull(err) ? new StoreUnavailableError('full', { cause: err }) : err;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
