import { AppError } from '../core/errors.ts';

/** Cursors are opaque to clients: base64url of the last row's sort key. */
export function encodeCursor(key: { createdAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([key.createdAt, key.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string' && createdAt.length < 64 && id.length < 64) return { createdAt, id };
  } catch {
    // fall through
  }
  throw new AppError('VALIDATION_FAILED', 'cursor is not valid');
}
