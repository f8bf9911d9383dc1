import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A key file that exists but cannot be used: start-up stops, and the file is left for the operator. */
export class KeyFileError extends Error {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`The key file ${file} ${problem}. It is never replaced (secrets and sessions made with it would be lost): restore it from a backup, or move it away to start with a new key.`);
    this.name = 'KeyFileError';
    this.file = file;
  }
}

/** The AES-256-GCM master key for secrets, from DATA_DIR/keys/secrets-key (made on first start). */
export function loadOrCreateSecretsKey(dataDir: string): Buffer {
  return loadOrCreate(dataDir, 'secrets-key', (text) => (/^[A-Za-z0-9_-]{43}$|^[0-9a-fA-F]{64}$/.test(text) ? parseMasterKey(text) : undefined), 'does not hold a key of 32 bytes (base64url or hex)');
}

/** The HS256 signing secret for session tokens, from DATA_DIR/keys/jwt-secret (made on first start). */
export function loadOrCreateJwtSecret(dataDir: string): string {
  return loadOrCreate(dataDir, 'jwt-secret', (text) => (/^[\x21-\x7e]{32,}$/.test(text) ? text : undefined), 'does not hold a secret of at least 32 printable characters');
}

/**
 * Reads a key kept in DATA_DIR/keys, creating it (0600) only when the file does not exist. A file that
 * exists but does not parse is an error, never a reason to write a new key over it.
 */
function loadOrCreate<T>(dataDir: string, name: string, parse: (text: string) => T | undefined, problem: string): T {
  const dir = path.join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, name);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyFileError(file, `cannot be read (${(err as Error).message})`);
  }
  if (text === undefined) {
    text = randomBytes(32).toString('base64url');
    writeAtomically(file, `${text}\n`);
  }
  const key = parse(text.trim());
  if (key === undefined) throw new KeyFileError(file, problem);
  return key;
}

/** Written whole or not at all: a crash mid-write must not leave a truncated key that the next start refuses. */
function writeAtomically(file: string, content: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dirFd = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** SECRETS_KEY may be 64 hex characters or base64/base64url of 32 bytes. */
export function parseMasterKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const decoded = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  return decoded.length === 32 ? decoded : undefined;
}
