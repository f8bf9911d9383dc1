import pg from 'pg';
import type { Leadership } from '../../core/ports/leadership.ts';

/** One 64-bit key for the lock; any process of any version of Skyscale agrees on it. */
const LOCK_KEY = 0x5ce5ca1e;

/**
 * Leadership held through a PostgreSQL session-level advisory lock on a connection of its own: while
 * the connection lives, no other process gets the lock; when the process dies, PostgreSQL ends the
 * session and the lock is free. Each process tries to take it every `everyMs`.
 */
export class AdvisoryLeadership implements Leadership {
  readonly #url: string;
  readonly #onChange: (leader: boolean) => void;
  readonly #timer: NodeJS.Timeout;
  #client: pg.Client | undefined;
  #leader = false;
  #trying: Promise<void> | undefined;
  #stopped = false;

  constructor(url: string, everyMs: number, onChange: (leader: boolean) => void) {
    this.#url = url;
    this.#onChange = onChange;
    this.#timer = setInterval(() => void this.#try(), everyMs);
    this.#timer.unref();
    void this.#try();
  }

  get leader(): boolean {
    return this.#leader;
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#onChange(leader);
  }

  #try(): Promise<void> {
    this.#trying ??= this.#attempt().finally(() => (this.#trying = undefined));
    return this.#trying;
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    try {
      if (this.#client === undefined) {
        const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 5_000 });
        client.on('error', () => this.#drop());
        client.on('end', () => this.#drop());
        await client.connect();
        this.#client = client;
      }
      if (this.#leader) {
        await this.#client.query('select 1');
        return;
      }
      const { rows } = await this.#client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [LOCK_KEY]);
      this.#set(rows[0]?.locked === true);
    } catch {
      this.#drop();
    }
  }

  /** The connection is gone, and the lock with it. */
  #drop(): void {
    const client = this.#client;
    this.#client = undefined;
    this.#set(false);
    client?.end().catch(() => {});
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#trying;
    const client = this.#client;
    this.#client = undefined;
    this.#set(false);
    await client?.end().catch(() => {});
  }
}
