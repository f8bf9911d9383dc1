import type { BlobStore } from '../core/ports/bus.ts';
import type { CodeSource } from '../core/ports/code.ts';
import type { CodeRef } from '../core/invocation.ts';
import { CodeStore } from '../functions/code-store.ts';
import type { FileMap } from '../functions/file-map.ts';

/** A stored tree as one blob: its paths and their bytes (base64), in JSON. */
function encode(files: FileMap): Uint8Array {
  const entries: Record<string, string> = {};
  for (const [name, content] of files) entries[name] = content.toString('base64');
  return Buffer.from(JSON.stringify(entries));
}

function decode(bytes: Uint8Array): FileMap {
  const entries = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, string>;
  return new Map(Object.entries(entries).map(([name, b64]) => [name, Buffer.from(b64, 'base64')]));
}

/**
 * The code store of a control process in distributed mode: every tree it stores is also put in the
 * `code` blob bucket (before the deploy that refers to it commits), so a worker on another machine can
 * fetch it.
 */
export class ReplicatedCodeStore extends CodeStore {
  readonly #blobs: BlobStore;

  constructor(rootDir: string, blobs: BlobStore) {
    super(rootDir);
    this.#blobs = blobs;
  }

  override async put(files: FileMap): Promise<{ hash: string; size: number }> {
    const stored = await super.put(files);
    if (!(await this.#blobs.has(stored.hash))) await this.#blobs.put(stored.hash, encode(files));
    return stored;
  }
}

/**
 * A worker's code: its own DATA_DIR's tree when it has one, else fetched once from the `code` bucket,
 * checked against its content hash and stored locally. Concurrent misses of one hash share a fetch.
 */
export function replicatedCodeSource(local: CodeStore, blobs: BlobStore): CodeSource {
  const fetching = new Map<string, Promise<string>>();
  const fetch = async (hash: string): Promise<string> => {
    const bytes = await blobs.get(hash);
    if (bytes === undefined) throw new Error(`code ${hash.slice(0, 12)} is neither in this worker's code store nor in the cluster's`);
    const files = decode(bytes);
    if (CodeStore.hashOf(files).hash !== hash) throw new Error(`code ${hash.slice(0, 12)} fetched from the cluster does not match its hash`);
    await local.put(files);
    return local.dir(hash);
  };
  return {
    dir: async (code: CodeRef) => {
      if (await local.has(code.hash)) return local.dir(code.hash);
      let pending = fetching.get(code.hash);
      if (pending === undefined) {
        pending = fetch(code.hash).finally(() => fetching.delete(code.hash));
        fetching.set(code.hash, pending);
      }
      return pending;
    },
  };
}
