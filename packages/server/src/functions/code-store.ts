import { createHash, randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError } from '../core/errors.ts';
import type { FileMap } from './file-map.ts';

const HASH_RE = /^[0-9a-f]{64}$/;

/**
 * Code stored content-addressed: `<root>/<sha256 of the manifest>/<files>`. A put writes into a
 * temporary directory, fsyncs every file, and renames it into place, so a version never refers to
 * half-written code; identical code is stored once.
 */
export class CodeStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = path.resolve(root);
  }

  static hashOf(files: FileMap): { hash: string; size: number } {
    const manifest = createHash('sha256');
    let size = 0;
    for (const name of [...files.keys()].sort()) {
      const content = files.get(name)!;
      size += content.length;
      manifest.update(`${name}\0${content.length}\0${createHash('sha256').update(content).digest('hex')}\n`);
    }
    return { hash: manifest.digest('hex'), size };
  }

  dir(hash: string): string {
    if (!HASH_RE.test(hash)) throw new AppError('INVALID_ID', 'not a code hash');
    return path.join(this.#root, hash);
  }

  async has(hash: string): Promise<boolean> {
    try {
      return (await fs.stat(this.dir(hash))).isDirectory();
    } catch {
      return false;
    }
  }

  async put(files: FileMap): Promise<{ hash: string; size: number }> {
    const { hash, size } = CodeStore.hashOf(files);
    const final = this.dir(hash);
    if (await this.has(hash)) return { hash, size };
    await fs.mkdir(this.#root, { recursive: true, mode: 0o755 });
    const temp = path.join(this.#root, `.tmp-${hash.slice(0, 12)}-${randomBytes(6).toString('hex')}`);
    try {
      await fs.mkdir(temp, { mode: 0o755 });
      for (const [name, content] of files) {
        const target = path.join(temp, name);
        if (!target.startsWith(temp + path.sep)) throw new AppError('INVALID_BUNDLE', `Entry "${name}" leaves the bundle`);
        await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
        const handle = await fs.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
        try {
          await handle.writeFile(content);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      try {
        await fs.rename(temp, final);
      } catch (err) {
        if (!(await this.has(hash))) throw err;
      }
      await syncDir(this.#root);
      return { hash, size };
    } finally {
      await fs.rm(temp, { recursive: true, force: true });
    }
  }

  async read(hash: string): Promise<FileMap> {
    const root = this.dir(hash);
    const files: FileMap = new Map();
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) files.set(path.relative(root, full).split(path.sep).join('/'), await fs.readFile(full));
      }
    };
    await walk(root);
    return files;
  }

  /** The paths stored under a hash, without reading their contents. */
  async list(hash: string): Promise<Set<string>> {
    const root = this.dir(hash);
    const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
    return new Set(entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/')));
  }

  async remove(hash: string): Promise<void> {
    await fs.rm(this.dir(hash), { recursive: true, force: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
