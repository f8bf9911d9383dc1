import { StoreUnavailableError } from '../../core/ports/store.ts';

/** PostgreSQL SQLSTATE codes (https://www.postgresql.org/docs/15/errcodes-appendix.html). */
const UNIQUE_VIOLATION = '23505';
const DISK_FULL = '53100';

const sqlState = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};

/** Class 23, integrity constraint violation: the row can never be written as it is. */
export const isConstraint = (err: unknown): boolean => sqlState(err)?.startsWith('23') === true;

/** A unique constraint or index was violated; `constraint` narrows it to the one named. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (sqlState(err) !== UNIQUE_VIOLATION) return false;
  return constraint === undefined || (err as { constraint?: unknown }).constraint === constraint;
}

export const isFull = (err: unknown): boolean => sqlState(err) === DISK_FULL;

/** The socket-level code of a failed connection (ECONNREFUSED, ENOTFOUND, ...), looking into an AggregateError. */
export function connectionCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  if (err instanceof AggregateError) for (const inner of err.errors) {
    const found = connectionCode(inner);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The database cannot be reached (as opposed to a statement it refused). */
export const isUnreachable = (err: unknown): boolean =>
  connectionCode(err) !== undefined || /Connection terminated|timeout exceeded when trying to connect/i.test(err instanceof Error ? err.message : '');

export function asStoreError(err: unknown): unknown {
  return isFull(err) ? new StoreUnavailableError('full', { cause: err }) : err;
}

export function describe(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') return err.errors.map(describe).join('; ');
  return err instanceof Error ? err.message : String(err);
}

/** Where a postgres:// URL points, for messages: never its password. */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'the configured address';
  }
}

/** Thrown when PostgreSQL does not answer at start-up: one line, no stack needed. */
export class PostgresUnreachableError extends Error {
  readonly code: string;
  constructor(url: string, cause: unknown) {
    const code = connectionCode(cause) ?? 'no answer';
    super(`PostgreSQL at ${hostOf(url)} is not reachable (${code})`, { cause });
    this.code = code;
  }
}
