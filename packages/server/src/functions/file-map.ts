import { AppError } from '../core/errors.ts';

/**
 * Files of a function's code, keyed by normalised relative POSIX path: no leading `./` or `/`, no
 * `.`, `..` or empty segments, NFC. Directories are implied by the paths; there are no empty ones.
 */
export type FileMap = Map<string, Buffer>;

export interface FileLimits {
  /** Total size of all files, uncompressed. */
  maxBytes: number;
  /** Number of files (links materialised as copies count as files). */
  maxFiles: number;
  /** Longest path, in UTF-8 bytes; default 1024. */
  maxPathLength?: number;
}

export const DEFAULT_MAX_PATH_LENGTH = 1024;
/** NAME_MAX of every file system the code store may sit on. */
const MAX_SEGMENT_BYTES = 255;

// C0 and C1 controls, DEL, U+FFFD (what an undecodable name turns into), and the Unicode bidi
// controls that make a name display as something else ("evil\u202Egnp.js" shows as "evilsj.png").
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]/u;
const FORBIDDEN_CHARS_GLOBAL = new RegExp(FORBIDDEN_CHARS.source, 'gu');

/** A name fit for an error message: quoted, shortened, with hidden characters spelled out. */
export function describePath(raw: string): string {
  const short = raw.length > 200 ? `${raw.slice(0, 200)}…` : raw;
  const visible = short.toWellFormed().replace(FORBIDDEN_CHARS_GLOBAL, (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`);
  return `"${visible}"`;
}

export const invalidBundle = (message: string): AppError => new AppError('INVALID_BUNDLE', message);

/**
 * Checks a relative path from a bundle or a JSON file map and returns it normalised (NFC, `./`,
 * `.` and repeated slashes dropped). Refuses: empty names, absolute paths (`/x`, `C:x`), any `..`
 * segment, backslashes, control/bidi characters, U+FFFD, malformed Unicode, a trailing slash
 * (a directory), a segment over 255 bytes and a path over `maxLength` UTF-8 bytes.
 */
export function validateRelativePath(raw: string, maxLength = DEFAULT_MAX_PATH_LENGTH): string {
  const path = normalisePath(raw, maxLength);
  if (path === '') throw invalidBundle(`Entry ${describePath(raw)} has an empty name`);
  if (/\/\.?$/.test(raw)) throw invalidBundle(`Entry ${describePath(raw)} ends with "/" (a directory, not a file)`);
  return path;
}

/** Like validateRelativePath, for a directory entry: a trailing slash is fine and the root ('') is allowed. */
export function validateDirectoryPath(raw: string, maxLength = DEFAULT_MAX_PATH_LENGTH): string {
  return normalisePath(raw, maxLength);
}

function normalisePath(raw: string, maxLength: number): string {
  const bad = (why: string) => invalidBundle(`Entry ${describePath(String(raw))} ${why}`);
  if (typeof raw !== 'string' || raw.length === 0) throw bad('has an empty name');
  if (!raw.isWellFormed()) throw bad('is not valid Unicode');
  if (FORBIDDEN_CHARS.test(raw)) throw bad('contains control, bidi or replacement characters');
  // Normalise before the structural checks so that nothing NFC produces can slip past them.
  const name = raw.normalize('NFC');
  if (FORBIDDEN_CHARS.test(name)) throw bad('contains control, bidi or replacement characters');
  if (name.includes('\\')) throw bad('contains a backslash');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw bad('is an absolute path');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw bad('leaves the bundle (a ".." segment)');
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) throw bad(`has a path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  const path = segments.join('/');
  if (Buffer.byteLength(path) > maxLength) throw bad(`has a path longer than ${maxLength} bytes`);
  return path;
}

/**
 * Accumulates files while enforcing the limits and the shape of a tree: a path is claimed once, no
 * path is both a file and a directory. Bytes are counted as they stream in, so an archive bomb stops
 * at the limit instead of after inflating.
 */
export class FileCollector {
  readonly files: FileMap = new Map();
  readonly #limits: FileLimits;
  /** Paths of files and links, claimed before their content is known. */
  readonly #claimed = new Set<string>();
  /** Every directory implied by a claimed path or named by a directory entry. */
  readonly #dirs = new Set<string>();
  #bytes = 0;

  constructor(limits: FileLimits) {
    this.#limits = limits;
  }

  get maxFiles(): number {
    return this.#limits.maxFiles;
  }

  get maxPathLength(): number {
    return this.#limits.maxPathLength ?? DEFAULT_MAX_PATH_LENGTH;
  }

  /** Bytes still allowed before the size limit. */
  get remainingBytes(): number {
    return this.#limits.maxBytes - this.#bytes;
  }

  isDirectory(path: string): boolean {
    return this.#dirs.has(path);
  }

  isClaimed(path: string): boolean {
    return this.#claimed.has(path);
  }

  /** Validates and reserves a file (or link) path; counts it against maxFiles. Returns the normalised path. */
  claim(raw: string): string {
    const path = validateRelativePath(raw, this.maxPathLength);
    if (this.#claimed.has(path)) throw invalidBundle(`Entry ${describePath(path)} appears twice`);
    if (this.#dirs.has(path)) throw invalidBundle(`Entry ${describePath(path)} is both a file and a directory`);
    const parents = parentsOf(path);
    const fileParent = parents.find((d) => this.#claimed.has(d));
    if (fileParent !== undefined) throw invalidBundle(`Entry ${describePath(path)} is inside ${describePath(fileParent)}, which is a file or a link`);
    if (this.#claimed.size + 1 > this.#limits.maxFiles) throw invalidBundle(`The code has more than ${this.#limits.maxFiles} files (at entry ${describePath(path)})`);
    this.#claimed.add(path);
    for (const d of parents) this.#dirs.add(d);
    return path;
  }

  /** Records a directory entry (nothing is stored for it; it only has to agree with the files). */
  directory(raw: string): void {
    const path = validateDirectoryPath(raw, this.maxPathLength);
    if (path === '') return;
    const all = [...parentsOf(path), path];
    const file = all.find((d) => this.#claimed.has(d));
    if (file !== undefined) throw invalidBundle(`Entry ${describePath(path)} is a directory, but ${describePath(file)} is a file or a link`);
    for (const d of all) this.#dirs.add(d);
  }

  /** Counts uncompressed bytes as they arrive; `path` names the entry in the error. */
  count(bytes: number, path?: string): void {
    this.#bytes += bytes;
    if (this.#bytes > this.#limits.maxBytes) {
      throw invalidBundle(`The code is larger than ${this.#limits.maxBytes} bytes uncompressed${path === undefined ? '' : ` (at entry ${describePath(path)})`}`);
    }
  }

  /** Stores the content of a claimed path whose bytes were already counted. */
  set(path: string, content: Buffer): void {
    if (!this.#claimed.has(path) || this.files.has(path)) throw new Error(`internal: ${path} was not claimed or is set twice`);
    this.files.set(path, content);
  }

  /** claim + count + set, for content that is already in memory. */
  add(raw: string, content: Buffer): string {
    const path = this.claim(raw);
    this.count(content.length, path);
    this.set(path, content);
    return path;
  }
}

/** 'a/b/c' → ['a', 'a/b']. */
function parentsOf(path: string): string[] {
  const parents: string[] = [];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) parents.push(path.slice(0, i));
  return parents;
}

export type JsonFileEntry = string | { content: string; encoding: 'utf8' | 'base64' };

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** The JSON `files` form of a deploy, checked exactly like an archive's entries. */
export function filesFromJson(files: Record<string, JsonFileEntry>, limits: FileLimits): FileMap {
  if (typeof files !== 'object' || files === null || Array.isArray(files)) throw invalidBundle('"files" must be an object of path → content');
  const collector = new FileCollector(limits);
  for (const [name, entry] of Object.entries(files)) collector.add(name, decodeJsonEntry(name, entry));
  return collector.files;
}

function decodeJsonEntry(name: string, entry: JsonFileEntry): Buffer {
  if (typeof entry === 'string') return Buffer.from(entry, 'utf8');
  if (typeof entry !== 'object' || entry === null || typeof entry.content !== 'string') {
    throw invalidBundle(`Entry ${describePath(name)} must be a string or { content, encoding }`);
  }
  if (entry.encoding === 'utf8' || entry.encoding === undefined) return Buffer.from(entry.content, 'utf8');
  if (entry.encoding !== 'base64') throw invalidBundle(`Entry ${describePath(name)} has an unknown encoding; use "utf8" or "base64"`);
  const compact = entry.content.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) throw invalidBundle(`Entry ${describePath(name)} is not valid base64`);
  return Buffer.from(compact, 'base64');
}

/**
 * If every file sits under one top-level directory (as GitHub archives and "compress folder" zips
 * produce), returns the files with that directory stripped; otherwise returns `files` unchanged.
 * extractBundle never does this on its own, because `src/` alone is a legitimate layout.
 */
export function unwrapSingleDirectory(files: FileMap): FileMap {
  let top: string | undefined;
  for (const path of files.keys()) {
    const slash = path.indexOf('/');
    if (slash === -1) return files;
    const first = path.slice(0, slash);
    if (top === undefined) top = first;
    else if (first !== top) return files;
  }
  if (top === undefined) return files;
  return new Map([...files].map(([path, content]) => [path.slice(top.length + 1), content]));
}
