import { AppError } from '../core/errors.ts';

/**
 * Counts failed logins per username and per client address in a sliding window; past the limit,
 * login answers 429 with Retry-After until the window has passed. A success clears the username's count.
 */
export class LoginLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #failures = new Map<string, number[]>();

  constructor(maxAttempts: number, windowSeconds: number) {
    this.#max = maxAttempts;
    this.#windowMs = windowSeconds * 1000;
  }

  check(keys: string[], now = Date.now()): void {
    let retryAfterMs = 0;
    for (const key of keys) {
      const recent = this.#recent(key, now);
      // An address may be shared by many users (NAT, a proxy), so it gets more room than one username.
      const max = key.startsWith('ip:') ? this.#max * 5 : this.#max;
      if (recent.length >= max) retryAfterMs = Math.max(retryAfterMs, recent[0] + this.#windowMs - now);
    }
    if (retryAfterMs > 0) {
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      throw new AppError('RATE_LIMITED', `Too many failed logins; retry in ${seconds}s`, { headers: { 'retry-after': String(seconds) } });
    }
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) {
      const recent = this.#recent(key, now);
      recent.push(now);
      this.#failures.set(key, recent);
    }
    if (this.#failures.size > 100_000) this.#sweep(now);
  }

  succeed(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string, now: number): number[] {
    const list = this.#failures.get(key);
    if (list === undefined) return [];
    const fresh = list.filter((t) => now - t < this.#windowMs);
    if (fresh.length === 0) this.#failures.delete(key);
    return fresh;
  }

  #sweep(now: number): void {
    for (const key of [...this.#failures.keys()]) this.#recent(key, now);
  }
}
