import type { InvocationTarget } from '../core/invocation.ts';
import type { RegisteredWorker } from '../core/ports/workers.ts';
import type { WorkerRegistry } from './registry.ts';
import type { WorkerPicker } from './picker.ts';

/**
 * Placement across workers, from their heartbeats: a ready worker with an idle instance of the version
 * first (a warm start), then the lowest load score among those below saturation and with a free slot,
 * then the lowest score of all (the worker queues or refuses, and the next is tried).
 */
export class RegistryPicker implements WorkerPicker {
  readonly #registry: WorkerRegistry;
  /** Calls this process has out on each worker: heartbeats come every interval, so between two this spreads the load. */
  readonly #outstanding = new Map<string, number>();

  constructor(registry: WorkerRegistry) {
    this.#registry = registry;
  }

  async pick(target: InvocationTarget, exclude: ReadonlySet<string>): Promise<string | undefined> {
    const ready = (await this.#registry.ready()).filter((w) => w.roles.includes('worker') && !exclude.has(w.id));
    if (ready.length === 0) return undefined;
    const busy = (w: RegisteredWorker): number => (w.inFlight + (this.#outstanding.get(w.id) ?? 0)) / Math.max(1, w.capacity.maxConcurrentExecutions);
    const byScore = (a: RegisteredWorker, b: RegisteredWorker): number => a.load.score + busy(a) - (b.load.score + busy(b));
    const warm = ready.filter((w) => w.warm.some((v) => v.functionId === target.functionId && v.version === target.version && v.idle > 0));
    if (warm.length > 0) return warm.sort(byScore)[0].id;
    const roomy = ready.filter((w) => !w.load.saturated && w.inFlight < w.capacity.maxConcurrentExecutions);
    return (roomy.length > 0 ? roomy : ready).sort(byScore)[0].id;
  }

  begin(workerId: string): void {
    this.#outstanding.set(workerId, (this.#outstanding.get(workerId) ?? 0) + 1);
  }

  end(workerId: string): void {
    const left = (this.#outstanding.get(workerId) ?? 1) - 1;
    if (left <= 0) this.#outstanding.delete(workerId);
    else this.#outstanding.set(workerId, left);
  }

  async alive(workerId: string): Promise<boolean> {
    const worker = (await this.#registry.list()).find((w) => w.id === workerId);
    return worker !== undefined && worker.status !== 'lost';
  }
}
