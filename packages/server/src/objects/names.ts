import { AppError } from '../core/errors.ts';

const FORBIDDEN = /[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069/\\]/;

/**
 * Object names are opaque keys: NFC-normalised, 1–255 bytes, no '/', '\', control or bidi characters,
 * and not '.' or '..'. They are never used as file names (files are named by object id).
 */
export function checkObjectName(raw: string): string {
  const name = raw.normalize('NFC');
  if (name.length === 0 || Buffer.byteLength(name) > 255 || FORBIDDEN.test(name) || name === '.' || name === '..') {
    throw new AppError('INVALID_NAME', "Object names are 1-255 bytes with no '/', '\\', control or bidi characters, and not '.' or '..'");
  }
  return name;
}
