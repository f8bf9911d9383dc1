import type { StoreConfig } from '../config/options.ts';
import { PostgresUnreachableError } from './postgres/errors.ts';
import type { OpenedStore } from './index.ts';
import { openStore } from './index.ts';

export interface RetryOptions {
  /** Stops the retrying: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** One line per failed attempt. */
  warn: (line: string) => void;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Opens the store; while PostgreSQL is not reachable (it may start after this process, as with Docker
 * Compose), says so in one line per attempt and tries again with exponential backoff, until it answers
 * or the signal aborts. Any other error (a wrong password, a failed migration) is thrown at once.
 */
export async function openStoreWithRetry(config: StoreConfig, options: RetryOptions): Promise<OpenedStore> {
  const { signal, warn, firstDelayMs = 500, maxDelayMs = 10_000 } = options;
  let delay = firstDelayMs;
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await openStore(config, warn);
    } catch (err) {
      if (!(err instanceof PostgresUnreachableError)) throw err;
      warn(`${err.message}; retrying in ${delay / 1000}s`);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
