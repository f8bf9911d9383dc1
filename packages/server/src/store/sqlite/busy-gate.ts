import { StoreUnavailableError } from '../../core/ports/store.ts';
import { isBusy } from './errors.ts';

/** How long SQLite itself waits for a lock, blocking the event loop (node:sqlite is synchronous). */
export const BUSY_TIMEOUT_MS = 5;
/** How long a write waits for a lock another process holds before it is refused (503). */
export const WRITE_WAIT_MS = 2_000;
const FIRST_PROBE_MS = 10;
const MAX_PROBE_MS = 200;

/**
 * Writes wait here, asynchronously, while another process holds the database's write lock: once one
 * write has met the lock, the others stop trying and one probe at a time (with backoff) finds out when
 * it is free, so a held lock costs the event loop one short busy timeout per probe, not one per request.
 * Kysely runs one statement at a time on the connection, so a waiting write holds up the reads behind
 * it: writes wait only until WRITE_WAIT_MS after the lock was first met, and are refused at once after
 * that, until a probe finds it free.
 */
export class BusyGate {
  readonly #lockIsFree: () => boolean;
  readonly #waiters = new Set<() => void>();
  /** When a write first met the lock, while it is held; null while writes go through. */
  #lockedSince: number | null = null;
  #delay = FIRST_PROBE_MS;

  /** `lockIsFree` takes the write lock and lets it go at once (false, or BUSY, while it is held). */
  constructor(lockIsFree: () => boolean) {
    this.#lockIsFree = lockIsFree;
  }

  /** Whether writes are waiting for the lock now (a synchronous writer skips its turn instead). */
  get locked(): boolean {
    return this.#lockedSince !== null;
  }

  /** Runs a write; while the lock is held it waits, and past `waitMs` it is refused (StoreUnavailableError busy). */
  async write<T>(attempt: () => Promise<T>, waitMs = WRITE_WAIT_MS): Promise<T> {
    const deadline = Math.min(Date.now(), this.#lockedSince ?? Infinity) + waitMs;
    for (;;) {
      if (this.#lockedSince !== null) await this.#unlocked(deadline);
      try {
        return await attempt();
      } catch (err) {
        if (!isBusy(err)) throw err;
        this.sawBusy();
        if (Date.now() >= deadline) throw new StoreUnavailableError('busy', { cause: err });
      }
    }
  }

  /** A statement met the lock: writes wait for the probe from now on. */
  sawBusy(): void {
    if (this.#lockedSince !== null) return;
    this.#lockedSince = Date.now();
    this.#delay = FIRST_PROBE_MS;
    this.#probeLater();
  }

  #probeLater(): void {
    setTimeout(() => this.#probe(), this.#delay).unref();
  }

  #probe(): void {
    let free: boolean;
    try {
      free = this.#lockIsFree();
    } catch (err) {
      // Anything but the lock is for the writers to meet and report.
      free = !isBusy(err);
    }
    if (!free) {
      this.#delay = Math.min(this.#delay * 2, MAX_PROBE_MS);
      this.#probeLater();
      return;
    }
    this.#lockedSince = null;
    const waiting = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiting) wake();
  }

  #unlocked(deadline: number): Promise<void> {
    if (Date.now() >= deadline) return Promise.reject(new StoreUnavailableError('busy'));
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new StoreUnavailableError('busy'));
      }, Math.max(0, deadline - Date.now()));
      this.#waiters.add(wake);
    });
  }
}
