import { randomUUID } from 'node:crypto';
import { AppError, insufficientStorage, isDiskFull } from './errors.ts';

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's `X-Request-Id` when it is a sane token, else a new one: every plane names requests alike. */
export function requestIdOf(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: unknown };
}

/** The one JSON error shape every plane answers with (docs/errors.md). */
export function errorBody(error: AppError, requestId: string): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message, requestId } };
  if (error.details !== undefined) body.error.details = error.details;
  return body;
}

/**
 * Anything thrown, as the AppError an answer is built from: a write the file system had no room for is
 * INSUFFICIENT_STORAGE; other unknown errors are INTERNAL, their text never shown.
 */
export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return isDiskFull(err) ? insufficientStorage(err) : new AppError('INTERNAL', undefined, { cause: err });
}
