import type { BlobStore } from '../../core/ports/bus.ts';

/** The in-process bus's blob bucket: copies kept in memory, dropped `ttlMs` after their put. */
export class MemoryBlobs implements BlobStore {
  readonly #blobs = new Map<string, { bytes: Uint8Array; at: number }>();
  readonly #ttlMs: number | undefined;

  constructor(ttlMs?: number) {
    this.#ttlMs = ttlMs;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    this.#blobs.set(name, { bytes: Uint8Array.from(bytes), at: Date.now() });
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const blob = this.#blobs.get(name);
    if (blob === undefined) return undefined;
    if (this.#ttlMs !== undefined && Date.now() - blob.at > this.#ttlMs) {
      this.#blobs.delete(name);
      return undefined;
    }
    return Uint8Array.from(blob.bytes);
  }

  async has(name: string): Promise<boolean> {
    return (await this.get(name)) !== undefined;
  }

  async delete(name: string): Promise<void> {
    this.#blobs.delete(name);
  }
}
