import { randomInt } from 'node:crypto';

/**
 * Host uids for sandboxed processes, one per live instance, from a range no real account uses.
 * A distinct uid makes RLIMIT_NPROC a per-instance limit and keeps instances from signalling or
 * reading each other even if a namespace were misconfigured. Several platform processes on one
 * host start at random offsets, so a collision needs two picks of the same slot out of a million.
 */
export class UidPool {
  static readonly BASE = 1_800_000_000;
  static readonly SIZE = 1_000_000;
  #next = randomInt(UidPool.SIZE);
  readonly #used = new Set<number>();

  acquire(): number {
    for (let i = 0; i < UidPool.SIZE; i++) {
      const uid = UidPool.BASE + ((this.#next + i) % UidPool.SIZE);
      if (this.#used.has(uid)) continue;
      this.#used.add(uid);
      this.#next = (this.#next + i + 1) % UidPool.SIZE;
      return uid;
    }
    throw new Error('no free sandbox uid');
  }

  release(uid: number): void {
    this.#used.delete(uid);
  }
}
