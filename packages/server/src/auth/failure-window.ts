import { AppError } from '../core/errors.ts';

/** Failures per key in a sliding window: how many are recent, and when the oldest of them ages out. */
export class FailureWindow {
  readonly #windowMs: number;
  readonly #failures = new Map<string, number[]>();

  constructor(windowSeconds: number) {
    this.#windowMs = windowSeconds * 1000;
  }

  /** Milliseconds until `key` is below `max` failures again; 0 when it is already. */
  waitMs(key: string, max: number, now = Date.now()): number {
    const recent = this.#recent(key, now);
    return recent.length >= max ? recent[recent.length - max] + this.#windowMs - now : 0;
  }

  add(key: string, now = Date.now()): void {
    const recent = this.#recent(key, now);
    recent.push(now);
    this.#failures.set(key, recent);
    if (this.#failures.size > 100_000) this.#sweep(now);
  }

  clear(key: string): void {
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

/** 429 RATE_LIMITED with Retry-After in whole seconds (at least 1). */
export function rateLimited(what: string, waitMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new AppError('RATE_LIMITED', `Too many ${what}; retry in ${seconds}s`, { headers: { 'retry-after': String(seconds) } });
}
