import { FailureWindow, rateLimited } from './failure-window.ts';

/**
 * Counts failed logins per username and per client address in a sliding window; past the limit,
 * login answers 429 with Retry-After until the window has passed. A success clears the username's count.
 */
export class LoginLimiter {
  readonly #max: number;
  readonly #window: FailureWindow;

  constructor(maxAttempts: number, windowSeconds: number) {
    this.#max = maxAttempts;
    this.#window = new FailureWindow(windowSeconds);
  }

  check(keys: string[], now = Date.now()): void {
    let waitMs = 0;
    for (const key of keys) {
      // An address may be shared by many users (NAT, a proxy), so it gets more room than one username.
      const max = key.startsWith('ip:') ? this.#max * 5 : this.#max;
      waitMs = Math.max(waitMs, this.#window.waitMs(key, max, now));
    }
    if (waitMs > 0) throw rateLimited('failed logins', waitMs);
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) this.#window.add(key, now);
  }

  succeed(key: string): void {
    this.#window.clear(key);
  }
}
