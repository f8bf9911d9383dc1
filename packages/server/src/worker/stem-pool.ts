import type { Logger } from 'pino';
import { STEM_RUNTIME, type SandboxDriver, type SandboxInstance, type SandboxRuntime, type ResourceLimits } from '../sandbox/driver.ts';
import { newId } from '../core/ids.ts';

const REFILL_DELAY_MS = 50;

/**
 * Pre-started generic instances ("stem cells") per runtime. Taking one triggers a refill in the
 * background, so a cold start from the pool costs only loading the function's code.
 */
export class StemPool {
  readonly #driver: SandboxDriver;
  readonly #size: number;
  readonly #limits: ResourceLimits;
  readonly #limitsFor: Partial<Record<SandboxRuntime, ResourceLimits>>;
  readonly #log: Logger;
  readonly #ready = new Map<SandboxRuntime, SandboxInstance[]>();
  readonly #starting = new Map<SandboxRuntime, number>();
  readonly #failures = new Map<SandboxRuntime, number>();
  #closed = false;

  /** `limits` for every runtime, unless `limitsFor` names the runtime's own. */
  constructor(driver: SandboxDriver, options: { size: number; runtimes: SandboxRuntime[]; limits: ResourceLimits; limitsFor?: Partial<Record<SandboxRuntime, ResourceLimits>>; log: Logger }) {
    this.#driver = driver;
    this.#size = options.size;
    this.#limits = options.limits;
    this.#limitsFor = options.limitsFor ?? {};
    this.#log = options.log;
    for (const runtime of options.runtimes) this.#ready.set(runtime, []);
  }

  #limitsOf(runtime: SandboxRuntime): ResourceLimits {
    return this.#limitsFor[runtime] ?? this.#limits;
  }

  /**
   * Whether a function of `memoryMb` may be specialised from this pool's stem cells: at or below their
   * size (narrowed at load), except Node's, which only at their own size. V8's heap limit is fixed when
   * the process starts, so a bigger Node stem narrowed to a smaller cgroup lets the heap outgrow the
   * cgroup, and the kernel OOM-kills a healthy function under load (seen at 128 MB in a 512 MB stem).
   */
  fits(wanted: SandboxRuntime, memoryMb: number): boolean {
    const runtime = STEM_RUNTIME[wanted];
    const size = this.#limitsOf(runtime).memoryMb;
    return runtime === 'node' ? memoryMb === size : memoryMb <= size;
  }

  fill(): void {
    for (const runtime of this.#ready.keys()) this.#refill(runtime);
  }

  /** A stem cell `runtime` can be specialised from (a node one for wasm, a python one for command). */
  take(wanted: SandboxRuntime): SandboxInstance | undefined {
    const runtime = STEM_RUNTIME[wanted];
    const list = this.#ready.get(runtime);
    if (list === undefined) return undefined;
    let instance: SandboxInstance | undefined;
    while ((instance = list.shift()) !== undefined && instance.state !== 'stem') void instance.kill('stale stem cell');
    // Refill a moment later: spawning a runtime now would compete for the CPU with the cold start
    // this stem cell is about to serve.
    setTimeout(() => this.#refill(runtime), REFILL_DELAY_MS).unref();
    return instance;
  }

  count(runtime: SandboxRuntime): number {
    return this.#ready.get(runtime)?.filter((i) => i.state === 'stem').length ?? 0;
  }

  instances(): SandboxInstance[] {
    return [...this.#ready.values()].flat();
  }

  #refill(runtime: SandboxRuntime): void {
    const list = this.#ready.get(runtime);
    if (list === undefined || this.#closed) return;
    const starting = this.#starting.get(runtime) ?? 0;
    const missing = this.#size - list.length - starting;
    for (let i = 0; i < missing; i++) void this.#startOne(runtime, list);
  }

  async #startOne(runtime: SandboxRuntime, list: SandboxInstance[]): Promise<void> {
    this.#starting.set(runtime, (this.#starting.get(runtime) ?? 0) + 1);
    try {
      const instance = await this.#driver.start({ id: `stem-${runtime}-${newId().slice(0, 8)}`, runtime, limits: this.#limitsOf(runtime) });
      this.#failures.set(runtime, 0);
      if (this.#closed) {
        await instance.kill('pool closed');
        return;
      }
      list.push(instance);
      void instance.exited.then(() => {
        const at = list.indexOf(instance);
        if (at >= 0) {
          list.splice(at, 1);
          this.#refill(runtime);
        }
      });
    } catch (err) {
      const failures = (this.#failures.get(runtime) ?? 0) + 1;
      this.#failures.set(runtime, failures);
      this.#log.warn({ err, runtime, failures }, 'starting a stem cell failed');
      if (failures < 5 && !this.#closed) setTimeout(() => this.#refill(runtime), 200 * 2 ** failures).unref();
    } finally {
      this.#starting.set(runtime, (this.#starting.get(runtime) ?? 1) - 1);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = this.instances();
    for (const list of this.#ready.values()) list.length = 0;
    await Promise.allSettled(all.map((i) => i.kill('platform stopping')));
  }
}
