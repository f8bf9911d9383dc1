import { AppError } from '../core/errors.ts';

const USERNAME_RE = /^[\p{L}\p{N}][\p{L}\p{N}._-]{1,63}$/u;

/** Usernames: NFC, 2–64 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export function checkUsername(raw: string): string {
  const username = raw.normalize('NFC');
  if (!USERNAME_RE.test(username)) {
    throw new AppError('VALIDATION_FAILED', "username must be 2-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return username;
}

export function checkPassword(password: string): void {
  if (password.length < 8) throw new AppError('VALIDATION_FAILED', 'password must be at least 8 characters');
  if (Buffer.byteLength(password) > 1024) throw new AppError('VALIDATION_FAILED', 'password must be at most 1024 bytes');
}
