import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';

/** Resource ids are UUIDv4 strings; anything else is answered as a bad id before it reaches the store. */
export const newId = (): string => randomUUID();

const bytes = Buffer.alloc(16);
/** Random bytes drawn 10 at a time from a pool refilled in bulk, as randomUUID does (one syscall per ~400 ids). */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48 bits of epoch milliseconds, then 74 random bits. Execution ids use it so
 * that new rows land at the right edge of the primary-key index instead of on a random page of it
 * (measured: about half the CPU of a record insert once the table outgrows SQLite's page cache).
 */
export function newTimeOrderedId(now = Date.now()): string {
  if (poolAt + 10 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(bytes, 6, poolAt, poolAt + 10);
  poolAt += 10;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const h = HEX;
  const b = bytes;
  return `${h[b[0]]}${h[b[1]]}${h[b[2]]}${h[b[3]]}-${h[b[4]]}${h[b[5]]}-${h[b[6]]}${h[b[7]]}-${h[b[8]]}${h[b[9]]}-${h[b[10]]}${h[b[11]]}${h[b[12]]}${h[b[13]]}${h[b[14]]}${h[b[15]]}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const isId = (value: string): boolean => UUID_RE.test(value);

/** A url-safe random token of `bytes` bytes of entropy. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

let isoSecond = -1;
let isoPrefix = '';

/** `new Date().toISOString()`, without formatting the whole date more than once a second (it is on the invoke hot path). */
export function nowIso(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
