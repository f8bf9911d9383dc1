/** A FIFO of invocations waiting for capacity, each with its own deadline. */
export class WaitQueue {
  readonly #waiters: Array<{ resolve: (ok: boolean) => void; timer: NodeJS.Timeout; since: number }> = [];

  get length(): number {
    return this.#waiters.length;
  }

  /** When the longest-waiting entry began to wait (undefined when none waits). */
  get oldest(): number | undefined {
    return this.#waiters[0]?.since;
  }

  /** Resolves true when woken for capacity, false when the deadline passed first. */
  wait(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const entry = {
        resolve,
        since: performance.now(),
        timer: setTimeout(() => {
          const at = this.#waiters.indexOf(entry);
          if (at >= 0) this.#waiters.splice(at, 1);
          resolve(false);
        }, Math.max(0, deadline - Date.now())),
      };
      this.#waiters.push(entry);
    });
  }

  wakeOne(): boolean {
    const next = this.#waiters.shift();
    if (next === undefined) return false;
    clearTimeout(next.timer);
    next.resolve(true);
    return true;
  }

  wakeAll(): void {
    while (this.wakeOne());
  }
}
