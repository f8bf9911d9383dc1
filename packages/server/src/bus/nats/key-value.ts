/**
 * A key-value bucket on JetStream KV (stream KV_<bucket>), history 1, entries expiring `ttlMs` after
 * their last put through the stream's max_age, the only TTL 2.9 has: per-key TTLs and delete markers
 * with a TTL are 2.11+ and silently ignored by 2.9. An entry that ages out sends no watch event.
 * Opening an existing bucket keeps its TTL (Kvm.create does not update it).
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import type { KeyValue, KeyValueEntry } from '../../core/ports/bus.ts';

export class NatsKeyValue implements KeyValue {
  readonly #kv: KV;
  readonly #jsm: JetStreamManager;
  readonly #bucket: string;

  private constructor(kv: KV, jsm: JetStreamManager, bucket: string) {
    this.#kv = kv;
    this.#jsm = jsm;
    this.#bucket = bucket;
  }

  static async open(js: JetStreamClient, jsm: JetStreamManager, bucket: string, ttlMs: number): Promise<NatsKeyValue> {
    return new NatsKeyValue(await new Kvm(js).create(bucket, { history: 1, ttl: ttlMs }), jsm, bucket);
  }

  async put(key: string, value: string): Promise<void> {
    await this.#kv.put(key, value);
  }

  async get(key: string): Promise<KeyValueEntry | undefined> {
    return toEntry(await this.#kv.get(key));
  }

  async delete(key: string): Promise<void> {
    await this.#kv.delete(key);
  }

  async entries(): Promise<KeyValueEntry[]> {
    // The stream's subjects, in one request: the client's keys() waits for its consumer to run dry,
    // which a bucket put to every few hundred ms (heartbeats) may never do. A deleted key's subject
    // holds its delete marker; get() leaves it out.
    const prefix = `$KV.${this.#bucket}.`;
    const info = await this.#jsm.streams.info(`KV_${this.#bucket}`, { subjects_filter: `${prefix}>` });
    const keys = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
    const entries = await Promise.all(keys.map((k) => this.get(k)));
    return entries.filter((e) => e !== undefined);
  }
}

function toEntry(e: KvEntry | null): KeyValueEntry | undefined {
  if (e === null || e.operation !== 'PUT') return undefined;
  return { key: e.key, value: e.string(), updatedAt: e.created.getTime() };
}
