import { createHash, randomBytes } from 'node:crypto';
import type { BlobStore } from '../core/ports/bus.ts';
import { createReadStream, createWriteStream, promises as fs, type ReadStream } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { AppError, insufficientStorage, isDiskFull, notFound } from '../core/errors.ts';
import { newId, nowIso } from '../core/ids.ts';
import type { Principal } from '../core/types.ts';
import type { FunctionService } from '../functions/service.ts';
import type { ObjectInfo } from '../core/types.ts';
import type { ObjectStore } from '../core/ports/store.ts';
import { checkObjectName } from './names.ts';

const UPLOAD_PREFIX = '.upload-';

/**
 * Per-function object storage: files under `<root>/<functionId>/<objectId>`, written to a temp file,
 * fsynced and renamed before the metadata is committed, so an interrupted upload leaves nothing behind.
 */
export class ObjectService {
  readonly #repo: ObjectStore;
  readonly #functions: FunctionService;
  readonly #root: string;
  readonly #maxBytes: number;

  /** `blobs`: distributed mode's copy of every object, for processes on machines that do not share DATA_DIR. */
  constructor(repo: ObjectStore, functions: FunctionService, root: string, maxBytes: number, blobs?: BlobStore) {
    this.#blobs = blobs;
    this.#repo = repo;
    this.#functions = functions;
    this.#root = path.resolve(root);
    this.#maxBytes = maxBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  readonly #blobs: BlobStore | undefined;

  #file(functionId: string, objectId: string): string {
    return path.join(this.#root, functionId, objectId);
  }

  async put(owner: Principal, functionId: string, rawName: string, body: Readable, contentType: string | undefined): Promise<ObjectInfo> {
    const fn = await this.#functions.get(owner, functionId);
    const name = checkObjectName(rawName);
    const dir = path.join(this.#root, fn.id);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = path.join(dir, `${UPLOAD_PREFIX}${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const limit = this.#maxBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) return done(new AppError('PAYLOAD_TOO_LARGE', `an object is at most ${limit} bytes`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const id = newId();
    try {
      await receive(body, meter, temp);
      await fs.rename(temp, this.#file(fn.id, id));
      await this.#blobs?.put(id, await fs.readFile(this.#file(fn.id, id)));
    } catch (err) {
      await fs.rm(temp, { force: true });
      if (err instanceof AppError) throw err;
      if (isDiskFull(err)) throw insufficientStorage(err);
      throw new AppError('BAD_REQUEST', 'the upload was interrupted', { cause: err });
    }
    try {
      const at = nowIso();
      const { info, replacedId } = await this.#repo.put({ id, ownerId: owner.userId, functionId: fn.id, name, size, contentType: cleanType(contentType), sha256: hash.digest('hex'), createdAt: at });
      if (replacedId !== null) await this.#remove(fn.id, replacedId);
      return info;
    } catch (err) {
      await fs.rm(this.#file(fn.id, id), { force: true });
      throw err;
    }
  }

  async open(owner: Principal, functionId: string, rawName: string): Promise<{ info: ObjectInfo; stream: ReadStream }> {
    const fn = await this.#functions.get(owner, functionId);
    const info = await this.#repo.get(owner.userId, fn.id, checkObjectName(rawName));
    if (info === undefined) throw notFound('Object');
    await this.#fetchIfAbsent(fn.id, info.id);
    return { info, stream: createReadStream(this.#file(fn.id, info.id)) };
  }

  /** Another machine's upload: its bytes come from the cluster's copy, once, into this DATA_DIR. */
  async #fetchIfAbsent(functionId: string, objectId: string): Promise<void> {
    if (this.#blobs === undefined) return;
    const file = this.#file(functionId, objectId);
    if (await fs.access(file).then(() => true, () => false)) return;
    const bytes = await this.#blobs.get(objectId);
    if (bytes === undefined) throw notFound('Object');
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${path.join(path.dirname(file), UPLOAD_PREFIX)}${randomBytes(8).toString('hex')}`;
    await fs.writeFile(temp, bytes, { mode: 0o600, flush: true });
    await fs.rename(temp, file);
  }

  async #remove(functionId: string, objectId: string): Promise<void> {
    await fs.rm(this.#file(functionId, objectId), { force: true });
    await this.#blobs?.delete(objectId);
  }

  async info(owner: Principal, functionId: string, rawName: string): Promise<ObjectInfo> {
    const fn = await this.#functions.get(owner, functionId);
    const info = await this.#repo.get(owner.userId, fn.id, checkObjectName(rawName));
    if (info === undefined) throw notFound('Object');
    return info;
  }

  async list(owner: Principal, functionId: string): Promise<ObjectInfo[]> {
    const fn = await this.#functions.get(owner, functionId);
    return this.#repo.list(owner.userId, fn.id);
  }

  async delete(owner: Principal, functionId: string, rawName: string): Promise<void> {
    const fn = await this.#functions.get(owner, functionId);
    const id = await this.#repo.delete(owner.userId, fn.id, checkObjectName(rawName));
    if (id === undefined) throw notFound('Object');
    await this.#remove(fn.id, id);
  }

  /**
   * Removes the temp files of uploads that a dead process left behind (a crash mid-upload), older than
   * `minAgeMs`: 0 when this process alone uses the directory (the embedded mode's DATA_DIR lock), else
   * old enough that no live upload can own them.
   */
  async removeStaleUploads(minAgeMs: number): Promise<number> {
    let removed = 0;
    for (const dir of await fs.readdir(this.#root).catch(() => [] as string[])) {
      const names = await fs.readdir(path.join(this.#root, dir)).catch(() => [] as string[]);
      for (const name of names) {
        if (!name.startsWith(UPLOAD_PREFIX)) continue;
        const file = path.join(this.#root, dir, name);
        try {
          if (minAgeMs > 0 && Date.now() - (await fs.lstat(file)).mtimeMs < minAgeMs) continue;
          await fs.rm(file, { force: true });
          removed++;
        } catch {
          // gone already
        }
      }
    }
    return removed;
  }

  /** The function is gone (its rows went with it): remove its files. */
  async removeFunction(functionId: string): Promise<void> {
    if (!/^[0-9a-f-]{36}$/.test(functionId)) return;
    await fs.rm(path.join(this.#root, functionId), { recursive: true, force: true });
  }
}

/**
 * Streams the body through the meter into `temp` (fsynced before close). On a limit or an interrupted
 * upload it stops writing and drains the rest of the body without keeping it, so the client still gets
 * the error answer instead of a reset connection.
 */
function receive(body: Readable, meter: Transform, temp: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const file = createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true });
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      body.unpipe(meter);
      body.resume();
      meter.destroy();
      file.destroy();
      reject(err);
    };
    const interrupted = (): void => fail(new AppError('BAD_REQUEST', 'the upload was interrupted'));
    meter.on('error', fail);
    file.on('error', fail);
    body.on('error', fail);
    body.on('aborted', interrupted);
    body.on('close', () => {
      if (!body.readableEnded) interrupted();
    });
    file.on('close', () => {
      if (!failed) resolve();
    });
    body.pipe(meter).pipe(file);
  });
}

function cleanType(value: string | undefined): string {
  const type = (value ?? '').split(';')[0].trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? (value ?? '').trim().slice(0, 255) : 'application/octet-stream';
}
