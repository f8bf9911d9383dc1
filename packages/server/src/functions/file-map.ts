import { AppError } from '../core/errors.ts';

/** Files of a function's code, keyed by normalised relative POSIX path. */
export type FileMap = Map<string, Buffer>;

export interface FileLimits {
  maxBytes: number;
  maxFiles: number;
  maxPathLength?: number;
}

// Control characters, DEL, and the Unicode bidi controls that can disguise a name.
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * Checks and normalises a relative path from a bundle or a file map: no absolute paths, no `..`,
 * no backslashes, no control or bidi characters. Returns undefined for entries that are only
 * directories ("dir/").
 */
export function validateRelativePath(raw: string, maxLength = 1024): string {
  const bad = (why: string) => new AppError('INVALID_BUNDLE', `Entry "${raw.slice(0, 200).replace(FORBIDDEN_CHARS, '?')}" ${why}`);
  if (raw.length === 0) throw bad('has an empty name');
  if (raw.length > maxLength) throw bad(`has a name longer than ${maxLength} characters`);
  if (FORBIDDEN_CHARS.test(raw)) throw bad('contains control or bidi characters');
  if (raw.includes('\\')) throw bad('contains a backslash');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw bad('is an absolute path');
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw bad('leaves the bundle (..)');
  if (segments.length === 0) throw bad('has an empty name');
  return segments.join('/').normalize('NFC');
}

/** Accumulates files while enforcing the count and total-size limits. */
export class FileCollector {
  readonly files: FileMap = new Map();
  readonly #dirs = new Set<string>();
  readonly #limits: FileLimits;
  #bytes = 0;

  constructor(limits: FileLimits) {
    this.#limits = limits;
  }

  /** Counts bytes as they stream in, so a bomb is stopped before it is inflated in full. */
  count(bytes: number): void {
    this.#bytes += bytes;
    if (this.#bytes > this.#limits.maxBytes) throw new AppError('INVALID_BUNDLE', `The code is larger than ${this.#limits.maxBytes} bytes uncompressed`);
  }

  add(rawPath: string, content: Buffer, alreadyCounted = false): void {
    const path = validateRelativePath(rawPath, this.#limits.maxPathLength);
    if (this.files.has(path)) throw new AppError('INVALID_BUNDLE', `Entry "${path}" appears twice`);
    const parts = path.split('/');
    const prefixes = parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
    if (this.#dirs.has(path) || prefixes.some((d) => this.files.has(d))) throw new AppError('INVALID_BUNDLE', `Entry "${path}" is both a file and a directory`);
    if (this.files.size + 1 > this.#limits.maxFiles) throw new AppError('INVALID_BUNDLE', `The code has more than ${this.#limits.maxFiles} files`);
    if (!alreadyCounted) this.count(content.length);
    this.files.set(path, content);
    for (const d of prefixes) this.#dirs.add(d);
  }
}

export function filesFromJson(files: Record<string, string | { content: string; encoding: 'utf8' | 'base64' }>, limits: FileLimits): FileMap {
  const collector = new FileCollector(limits);
  for (const [name, entry] of Object.entries(files)) {
    const content = typeof entry === 'string' ? Buffer.from(entry, 'utf8') : Buffer.from(entry.content, entry.encoding);
    collector.add(name, content);
  }
  return collector.files;
}
