import { randomBytes, randomUUID } from 'node:crypto';

/** Resource ids are UUIDv4 strings; anything else is answered as a bad id before it reaches the store. */
export const newId = (): string => randomUUID();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const isId = (value: string): boolean => UUID_RE.test(value);

/** A url-safe random token of `bytes` bytes of entropy. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const nowIso = (): string => new Date().toISOString();
