import { ExposureConflictError } from '../core/ports/store.ts';

/**
 * Unique violations of either backend, by the constraint's name (PostgreSQL) or its columns (SQLite's
 * message names them): what the database enforced when two writers raced past each other's reads.
 */
export function uniqueViolation(err: unknown): { constraint?: string; message: string } | undefined {
  const e = err as { code?: unknown; errcode?: unknown; constraint?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (e?.code === '23505') return { constraint: typeof e.constraint === 'string' ? e.constraint : undefined, message };
  // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
  if (e?.errcode === 2067 || e?.errcode === 1555) return { message };
  return undefined;
}

const matches = (v: { constraint?: string; message: string }, constraint: string, columns: string) => v.constraint === constraint || v.message.includes(columns);

export const isNameTaken = (err: unknown, constraint: string, columns: string): boolean => {
  const v = uniqueViolation(err);
  return v !== undefined && matches(v, constraint, columns);
};

/** A deploy's route or public name that the database refused as taken, as the port's conflict. */
export function asExposureConflict(err: unknown): unknown {
  const v = uniqueViolation(err);
  if (v === undefined) return err;
  if (matches(v, 'function_routes_method_shape', 'function_routes.method, function_routes.shape')) {
    return new ExposureConflictError('route', 'A route of this deploy conflicts with an existing route', { cause: 'route_taken' });
  }
  if (matches(v, 'public_functions_pkey', 'public_functions.name_key')) return new ExposureConflictError('public_name', 'Another public function already has this name', { cause: 'public_name_taken' });
  return err;
}
