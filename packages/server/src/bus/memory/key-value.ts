import type { KeyValue, KeyValueEntry } from '../../core/ports/bus.ts';

/** An in-process bucket: entries expire ttlMs after their last put, checked when read. */
export class MemoryKeyValue implements KeyValue {
  readonly #entries = new Map<string, KeyValueEntry>();
  ttlMs: number;

  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
  }

  async put(key: string, value: string): Promise<void> {
    this.#entries.set(key, { key, value, updatedAt: Date.now() });
  }

  async get(key: string): Promise<KeyValueEntry | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#expired(entry)) {
      this.#entries.delete(key);
      return undefined;
    }
    return { ...entry };
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async entries(): Promise<KeyValueEntry[]> {
    const live: KeyValueEntry[] = [];
    for (const entry of [...this.#entries.values()]) {
      if (this.#expired(entry)) this.#entries.delete(entry.key);
      else live.push({ ...entry });
    }
    return live;
  }

  #expired(entry: KeyValueEntry): boolean {
    return this.ttlMs > 0 && Date.now() - entry.updatedAt >= this.ttlMs;
  }
}
