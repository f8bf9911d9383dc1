import { createHash, randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError, notFound } from '../core/errors.ts';
import { describePath, invalidBundle, validateRelativePath, type FileMap } from './file-map.ts';
import type { CodeRef } from '../core/invocation.ts';

const HASH_RE = /^[0-9a-f]{64}$/;
/** Work-in-progress and being-deleted entries; a hash directory never starts with a dot. */
const TEMP_PREFIX = '.tmp-';
const TRASH_PREFIX = '.trash-';
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
const PATH_MAX = 4096;

export function isCodeHash(hash: unknown): hash is string {
  return typeof hash === 'string' && HASH_RE.test(hash);
}

/**
 * Code stored content-addressed as plain directory trees: `<root>/<hash>/<files>`. The hash is the
 * sha256 of a canonical manifest (sorted paths, each with its size and sha256), so identical code is
 * stored once whatever order or archive format it came in.
 *
 * A put writes into a temporary directory inside the root, fsyncs every file and directory, and
 * renames it into place; a version therefore never sees half-written code, and a put that fails
 * leaves nothing behind. Files are 0644 and directories 0755 whatever the umask; nothing is written
 * through a symlink (O_NOFOLLOW, O_EXCL in a fresh private directory). Stored trees are never
 * modified; remove() renames a tree away before deleting it, so it disappears atomically too.
 */
export class CodeStore {
  readonly #root: string;

  constructor(rootDir: string) {
    this.#root = path.resolve(rootDir);
  }

  /** The content hash and total size a put of these files would give, without writing anything. */
  static hashOf(files: FileMap): { hash: string; size: number } {
    const manifest = createHash('sha256');
    let size = 0;
    for (const name of [...files.keys()].sort()) {
      const content = files.get(name)!;
      size += content.length;
      // Names cannot hold NUL or newline (validateRelativePath), so this encoding is unambiguous.
      manifest.update(`${name}\0${content.length}\0${createHash('sha256').update(content).digest('hex')}\n`);
    }
    return { hash: manifest.digest('hex'), size };
  }

  /** The stored tree of a code reference, for a worker on this machine (CodeSource). */
  async local(code: CodeRef): Promise<string> {
    if (!(await this.has(code.hash))) throw new Error(`code ${code.hash.slice(0, 12)} is not in the code store`);
    return this.dir(code.hash);
  }

  /** Absolute directory of a stored tree (whether or not it exists). Refuses anything but a 64-hex hash. */
  dir(hash: string): string {
    if (!isCodeHash(hash)) throw new AppError('INVALID_ID', 'not a code hash');
    return path.join(this.#root, hash);
  }

  async has(hash: string): Promise<boolean> {
    if (!isCodeHash(hash)) return false;
    try {
      return (await fs.lstat(this.dir(hash))).isDirectory();
    } catch {
      return false;
    }
  }

  async put(files: FileMap): Promise<{ hash: string; size: number }> {
    checkTree(files);
    const { hash, size } = CodeStore.hashOf(files);
    const final = this.dir(hash);
    if (await this.has(hash)) return { hash, size };
    await fs.mkdir(this.#root, { recursive: true, mode: DIR_MODE });
    const temp = await fs.mkdtemp(path.join(this.#root, TEMP_PREFIX));
    try {
      await fs.chmod(temp, DIR_MODE);
      const dirs = new Set<string>([temp]);
      for (const [name, content] of files) {
        const target = path.join(temp, ...name.split('/'));
        await this.#mkdirs(temp, path.dirname(target), dirs);
        const handle = await fs.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, FILE_MODE);
        try {
          await handle.writeFile(content);
          await handle.chmod(FILE_MODE);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      for (const dir of dirs) await syncDir(dir);
      try {
        await fs.rename(temp, final);
      } catch (err) {
        // Someone stored the same content meanwhile: theirs is identical, ours is discarded below.
        if (!(await this.has(hash))) throw err;
      }
      await syncDir(this.#root);
      return { hash, size };
    } finally {
      await fs.rm(temp, { recursive: true, force: true });
    }
  }

  /** Creates `dir` and its parents below `base` (a fresh private directory), 0755, never through a link. */
  async #mkdirs(base: string, dir: string, made: Set<string>): Promise<void> {
    if (made.has(dir)) return;
    if (!dir.startsWith(base + path.sep)) throw new Error(`code store: ${dir} is outside ${base}`);
    await this.#mkdirs(base, path.dirname(dir), made);
    await fs.mkdir(dir, { mode: DIR_MODE });
    const stat = await fs.lstat(dir);
    if (!stat.isDirectory()) throw new Error(`code store: ${dir} is not a directory`);
    await fs.chmod(dir, DIR_MODE);
    made.add(dir);
  }

  /** Reads a stored tree back; NOT_FOUND if there is none. */
  async read(hash: string): Promise<FileMap> {
    const root = this.dir(hash);
    const files: FileMap = new Map();
    for (const name of await this.#listFiles(hash)) {
      const handle = await fs.open(path.join(root, ...name.split('/')), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        files.set(name, await handle.readFile());
      } finally {
        await handle.close();
      }
    }
    return files;
  }

  /** The paths stored under a hash, without reading their contents; NOT_FOUND if there is none. */
  async list(hash: string): Promise<Set<string>> {
    return new Set(await this.#listFiles(hash));
  }

  async #listFiles(hash: string): Promise<string[]> {
    const root = this.dir(hash);
    let entries;
    try {
      entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound('Code');
      throw err;
    }
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();
  }

  /** Deletes a stored tree (garbage collection). It vanishes at once (a rename), then is deleted. */
  async remove(hash: string): Promise<void> {
    const dir = this.dir(hash);
    const trash = path.join(this.#root, `${TRASH_PREFIX}${hash.slice(0, 12)}-${randomBytes(6).toString('hex')}`);
    try {
      await fs.rename(dir, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fs.rm(trash, { recursive: true, force: true });
  }

  /** Every stored hash (for garbage collection). */
  async hashes(): Promise<string[]> {
    try {
      return (await fs.readdir(this.#root)).filter((n) => HASH_RE.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * Deletes temporary and half-deleted directories left by a crash. Only those older than `maxAgeMs`
   * go, so a put running in another process at the same time is not disturbed. Returns how many.
   */
  async removeStaleTemp(maxAgeMs = 60 * 60 * 1000): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.#root);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX) && !name.startsWith(TRASH_PREFIX)) continue;
      const full = path.join(this.#root, name);
      try {
        if (Date.now() - (await fs.lstat(full)).mtimeMs < maxAgeMs) continue;
        await fs.rm(full, { recursive: true, force: true });
        removed++;
      } catch {
        // raced with its owner; fine
      }
    }
    return removed;
  }
}

/** Defence in depth: a FileMap may come from anywhere, so its paths are checked again before any write. */
function checkTree(files: FileMap): void {
  const dirs = new Set<string>();
  for (const [name, content] of files) {
    if (validateRelativePath(name, PATH_MAX) !== name) throw invalidBundle(`Entry ${describePath(name)} is not a normalised path`);
    if (!Buffer.isBuffer(content)) throw new TypeError(`code store: content of ${name} is not a Buffer`);
    for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) dirs.add(name.slice(0, i));
  }
  for (const dir of dirs) if (files.has(dir)) throw invalidBundle(`Entry ${describePath(dir)} is both a file and a directory`);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
