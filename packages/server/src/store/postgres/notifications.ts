import pg from 'pg';
import { describe } from './errors.ts';

/** A payload, or null after the connection was lost and made again: anything may have been missed meanwhile. */
export type NotificationHandler = (payload: string | null) => void;

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;

/**
 * PostgreSQL LISTEN/NOTIFY between the processes sharing a database (cache invalidation: a revoked API
 * key, changed routes). Listens on one dedicated connection (a pooled one would be handed to other
 * queries), made again with backoff when it drops; notifies through the store's pool. Delivery is at most
 * once and only to listeners connected at the time, so a handler must treat a notification as a hint to
 * re-read, and null (after a reconnect) as "re-read everything".
 */
export class PgNotifications {
  readonly #url: string;
  readonly #pool: pg.Pool;
  readonly #onError: (message: string) => void;
  readonly #handlers = new Map<string, Set<NotificationHandler>>();
  #client: pg.Client | null = null;
  #connecting: Promise<void> | null = null;
  #closed = false;
  #delay = RECONNECT_MIN_MS;
  #timer: NodeJS.Timeout | null = null;

  constructor(url: string, pool: pg.Pool, onError: (message: string) => void = () => {}) {
    this.#url = url;
    this.#pool = pool;
    this.#onError = onError;
  }

  /** Calls `handler` for every notification on `channel` from now on (once LISTEN took effect: awaited). */
  async listen(channel: string, handler: NotificationHandler): Promise<() => void> {
    check(channel);
    let set = this.#handlers.get(channel);
    const fresh = set === undefined;
    if (set === undefined) this.#handlers.set(channel, (set = new Set()));
    set.add(handler);
    await this.#connect();
    if (fresh && this.#client !== null) await this.#client.query(`LISTEN "${channel}"`);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.#handlers.get(channel) === set) {
        this.#handlers.delete(channel);
        this.#client?.query(`UNLISTEN "${channel}"`).catch(() => {});
      }
    };
  }

  /** Delivered when the surrounding transaction (none here: at once) commits. */
  async notify(channel: string, payload = ''): Promise<void> {
    check(channel);
    await this.#pool.query('select pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }

  #connect(): Promise<void> {
    if (this.#client !== null || this.#closed) return Promise.resolve();
    this.#connecting ??= this.#open().finally(() => (this.#connecting = null));
    return this.#connecting;
  }

  async #open(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url });
    client.on('notification', (n) => {
      for (const handler of this.#handlers.get(n.channel) ?? []) handler(n.payload ?? '');
    });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    await client.connect();
    for (const channel of this.#handlers.keys()) await client.query(`LISTEN "${channel}"`);
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#delay = RECONNECT_MIN_MS;
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client || this.#closed) return;
    this.#client = null;
    client.end().catch(() => {});
    this.#onError(`PostgreSQL notifications connection lost (${describe(err)}); reconnecting`);
    this.#retry();
  }

  #retry(): void {
    if (this.#closed || this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connect().then(
        () => {
          for (const set of this.#handlers.values()) for (const handler of set) handler(null);
        },
        (err: unknown) => {
          this.#onError(`PostgreSQL notifications: cannot reconnect (${describe(err)}); retrying in ${this.#delay / 1000}s`);
          this.#delay = Math.min(this.#delay * 2, RECONNECT_MAX_MS);
          this.#retry();
        },
      );
    }, this.#delay);
    this.#timer.unref();
  }
}

function check(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`Not a notification channel name: ${channel}`);
}
