import type { LoadSettings } from '../config/options.ts';
import type { ClusterView, InstanceLoadView, InstanceView, LoadReport, SessionPoolView, SystemReport } from '../core/ports/cluster.ts';
import type { HeartbeatInstance, RegisteredWorker } from '../core/ports/workers.ts';
import type { Principal } from '../core/types.ts';

/** What heartbeats do not carry: the sandbox's capabilities and the stream session pools, asked of someone who knows. */
export interface ClusterDetails {
  system(): Promise<SystemReport>;
  sessionPools(functionId: string): Promise<SessionPoolView[]>;
}

const visibleTo = (viewer: Principal) => (i: HeartbeatInstance): boolean => viewer.role === 'admin' || (i.ownerId !== null && i.ownerId === viewer.userId);

/** An instance as shown: without its owner and load, its ages moved on by the time since the heartbeat. */
function shown(i: HeartbeatInstance, sinceMs: number): InstanceView {
  const { ownerId: _owner, concurrency: _concurrency, load: _load, ...view } = i;
  return { ...view, uptimeMs: view.uptimeMs + sinceMs, idleMs: view.idleMs === null || view.inFlight > 0 ? view.idleMs : view.idleMs + sinceMs };
}

/**
 * The cluster as the control role sees it in distributed mode: the union of the live workers'
 * heartbeats (lost workers left out). Users see their own functions' instances; admins all, stem
 * cells and one entry per worker in the load report.
 */
export class RegistryClusterView implements ClusterView {
  readonly #workers: { live(): Promise<RegisteredWorker[]> };
  readonly #settings: LoadSettings;
  readonly #details: ClusterDetails;
  readonly #now: () => number;

  constructor(deps: { registry: { live(): Promise<RegisteredWorker[]> }; load: LoadSettings; details: ClusterDetails; now?: () => number }) {
    this.#workers = deps.registry;
    this.#settings = deps.load;
    this.#details = deps.details;
    this.#now = deps.now ?? Date.now;
  }

  async instances(viewer: Principal): Promise<InstanceView[]> {
    const now = this.#now();
    return (await this.#workers.live()).flatMap((w) => w.instances.filter(visibleTo(viewer)).map((i) => shown(i, Math.max(0, now - w.sentAt))));
  }

  async load(viewer: Principal): Promise<LoadReport> {
    const workers = await this.#workers.live();
    const instances = workers.flatMap((w) => w.instances.filter((i) => i.kind !== 'stem' && visibleTo(viewer)(i)).map((i): InstanceLoadView => ({
      id: i.id,
      functionId: i.functionId ?? '',
      functionName: i.functionName ?? '',
      version: i.version ?? 0,
      runtime: i.runtime,
      state: i.state,
      inFlight: i.inFlight,
      concurrency: i.concurrency,
      ...i.load,
    })));
    if (viewer.role !== 'admin') return { settings: this.#settings, sampler: null, instances, workers: null };
    // Each worker samples itself; what sampling costs is in its own /metrics, not summed here.
    return { settings: this.#settings, sampler: null, instances, workers: workers.map((w) => w.load) };
  }

  system(): Promise<SystemReport> {
    return this.#details.system();
  }

  sessionPools(functionId: string): Promise<SessionPoolView[]> {
    return this.#details.sessionPools(functionId);
  }
}
