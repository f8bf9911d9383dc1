/**
 * A blob bucket on JetStream's object store (stream OBJ_<bucket>): values are chunked, so one may be
 * larger than max_payload. The bucket's TTL is its stream's max_age (2.9 has no per-object TTL).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { BlobStore } from '../../core/ports/bus.ts';

export class NatsBlobs implements BlobStore {
  readonly #store: ObjectStore;

  private constructor(store: ObjectStore) {
    this.#store = store;
  }

  static async open(js: JetStreamClient, bucket: string, ttlMs?: number): Promise<NatsBlobs> {
    const options = ttlMs === undefined ? {} : { ttl: ttlMs * 1_000_000 };
    return new NatsBlobs(await new Objm(js).create(bucket, options));
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    await this.#store.putBlob({ name }, bytes);
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    return (await this.#store.getBlob(name)) ?? undefined;
  }

  async has(name: string): Promise<boolean> {
    const info = await this.#store.info(name);
    return info !== null && !info.deleted;
  }

  async delete(name: string): Promise<void> {
    if (await this.has(name)) await this.#store.delete(name);
  }
}
