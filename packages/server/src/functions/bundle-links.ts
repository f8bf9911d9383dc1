import { posix } from 'node:path';
import { AppError } from '../core/errors.ts';
import { describePath, invalidBundle, validateDirectoryPath, type FileCollector } from './file-map.ts';

/** Where the archive readers put what they find. */
export interface EntrySink {
  readonly collector: FileCollector;
  /** A symlink (target relative to the link's directory) or hardlink (target relative to the root). */
  link(rawPath: string, rawTarget: string, kind: 'symlink' | 'hardlink'): void;
}

interface Link {
  path: string;
  /** Normalised path of the target, relative to the bundle root. */
  target: string;
  kind: 'symlink' | 'hardlink';
}

/** Longest chain of links followed, as Linux's MAXSYMLINKS. */
const MAX_HOPS = 40;

/**
 * Links are checked when they are read — a target that is absolute or climbs above the bundle root
 * is refused at once — and materialised after the whole archive is read: each link becomes a copy of
 * the file it points at (following chains of links), counted against the size and file limits.
 * Links to directories, dangling links and loops are refused.
 */
export class LinkSink implements EntrySink {
  readonly collector: FileCollector;
  readonly #links = new Map<string, Link>();

  constructor(collector: FileCollector) {
    this.collector = collector;
  }

  link(rawPath: string, rawTarget: string, kind: 'symlink' | 'hardlink'): void {
    const path = this.collector.claim(rawPath);
    this.#links.set(path, { path, target: linkTarget(path, rawTarget, kind, this.collector.maxPathLength), kind });
  }

  /** Turns every link into a copy of its target's content. */
  materialise(): void {
    const { collector } = this;
    for (const link of this.#links.values()) {
      const seen = new Set([link.path]);
      let target = link.target;
      for (;;) {
        const content = collector.files.get(target);
        if (content !== undefined) {
          collector.count(content.length, link.path);
          collector.set(link.path, content);
          break;
        }
        const next = this.#links.get(target);
        if (next !== undefined) {
          if (seen.has(target) || seen.size >= MAX_HOPS) throw invalidBundle(`Link ${describePath(link.path)} is part of a loop of links`);
          seen.add(target);
          target = next.target;
          continue;
        }
        if (collector.isDirectory(target)) {
          throw invalidBundle(`Link ${describePath(link.path)} points at the directory ${describePath(target)}; only links to files are supported`);
        }
        throw invalidBundle(`Link ${describePath(link.path)} points at ${describePath(target)}, which is not a file in the bundle`);
      }
    }
  }
}

function linkTarget(path: string, raw: string, kind: 'symlink' | 'hardlink', maxLength: number): string {
  const what = `${kind === 'symlink' ? 'Symlink' : 'Hardlink'} ${describePath(path)}`;
  if (raw === '') throw invalidBundle(`${what} has an empty target`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw invalidBundle(`${what} points outside the bundle (absolute target ${describePath(raw)})`);
  // Lexical resolution is exact here: a path component that is itself a link would have to be a
  // link to a directory, and those are refused.
  const base = kind === 'symlink' ? posix.dirname(path) : '.';
  const joined = posix.normalize(posix.join(base, raw));
  if (joined === '..' || joined.startsWith('../')) throw invalidBundle(`${what} points outside the bundle (target ${describePath(raw)})`);
  let target: string;
  try {
    target = validateDirectoryPath(joined, maxLength);
  } catch (err) {
    if (err instanceof AppError) throw invalidBundle(`${what} has an invalid target: ${err.message}`);
    throw err;
  }
  if (target === '') throw invalidBundle(`${what} points at the bundle root; only links to files are supported`);
  if (target === path) throw invalidBundle(`${what} points at itself`);
  return target;
}
