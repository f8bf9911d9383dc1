import type { Logger } from 'pino';
import type { CpuQuotaPolicy, HostApiLimits, LoadSettings } from '../config/options.ts';
import { newId } from '../core/ids.ts';
import { failure, type InvocationResult, type InvocationTarget } from '../core/invocation.ts';
import type { CodeSource } from '../core/ports/code.ts';
import type { ObjectReader } from '../core/ports/objects.ts';
import { RuntimeUnavailableError, type LoadOutcome, type SandboxDriver } from '../sandbox/driver.ts';
import { BOOT_CPU_QUOTA_PERCENT } from '../sandbox/limits.ts';
import { OwnerConnectionBudgets, sandboxHostApi } from './host-api.ts';
import { ManagedInstance, type LeaseKind } from './managed-instance.ts';
import { toInvocationResult } from './outcome.ts';
import type { StemPool } from './stem-pool.ts';

/** What to run: the target, with its secrets already resolved into `env` on this worker. */
export interface AcquireSpec {
  target: InvocationTarget;
  /** The function's environment with its secret values (worker-local, never sent anywhere). */
  env: Record<string, string>;
  /** Changes with any secret value: instances holding different values are kept apart. */
  envDigest: string;
}

export type Started = { instance: ManagedInstance } | { failure: InvocationResult };

/** An instance's CPU quota in percent of a core: the function's own, else one core per `mbPerCore` of its memory; within the policy's bounds. */
export function cpuQuotaFor(limits: InvocationTarget['limits'], policy: CpuQuotaPolicy): number {
  const wanted = limits.cpuQuotaPercent ?? Math.round((limits.memoryMb / policy.mbPerCore) * 100);
  return Math.min(policy.maxPercent, Math.max(policy.minPercent, wanted));
}

/**
 * Brings up one instance of a function version: a stem cell specialised for it when one fits, else a
 * fresh sandbox; its code from the CodeSource; its host API over the ObjectReader, scoped to the
 * function and to the object grants of its invocations in flight.
 */
export class InstanceLoader {
  readonly #driver: SandboxDriver;
  readonly #stems: StemPool;
  readonly #code: CodeSource;
  readonly #objects: ObjectReader | undefined;
  readonly #load: LoadSettings;
  readonly #cpu: CpuQuotaPolicy;
  readonly #hostApi: HostApiLimits;
  readonly #budgets: OwnerConnectionBudgets;
  readonly #onExit: (instance: ManagedInstance) => void;

  constructor(deps: { driver: SandboxDriver; stems: StemPool; code: CodeSource; objects?: ObjectReader; load: LoadSettings; cpu: CpuQuotaPolicy; hostApi: HostApiLimits; log: Logger; onExit: (instance: ManagedInstance) => void }) {
    this.#driver = deps.driver;
    this.#stems = deps.stems;
    this.#code = deps.code;
    this.#objects = deps.objects;
    this.#load = deps.load;
    this.#cpu = deps.cpu;
    this.#hostApi = deps.hostApi;
    this.#budgets = new OwnerConnectionBudgets(deps.hostApi.maxConnectionsPerOwner, deps.log);
    this.#onExit = deps.onExit;
  }

  async start(spec: AcquireSpec, key: string, kind: LeaseKind, deadline: number, log: Logger): Promise<Started> {
    const { target } = spec;
    const { memoryMb } = target.limits;
    const cold = { coldStart: true };
    // Stem cells are narrowed to the function's limit at load (Node's only serve their own size). Every
    // runtime boots under the boot quota; the function's own applies from load, to the function's code.
    let sandbox = this.#stems.fits(target.runtime, memoryMb) ? this.#stems.take(target.runtime) : undefined;
    try {
      sandbox ??= await this.#driver.start({ id: `fn-${newId().slice(0, 13)}`, runtime: target.runtime, limits: { memoryMb, cpuQuotaPercent: BOOT_CPU_QUOTA_PERCENT } });
    } catch (err) {
      log.error({ err, functionId: target.functionId }, 'starting an instance failed');
      const reason = err instanceof RuntimeUnavailableError ? 'runtime_unavailable' : 'sandbox_unavailable';
      return { failure: failure(reason, err instanceof Error ? err.message : 'The sandbox could not start', cold) };
    }
    let codeDir: string;
    try {
      codeDir = await this.#code.dir(target.code);
    } catch (err) {
      log.error({ err, functionId: target.functionId, code: target.code }, "the function's code is not available on this worker");
      void sandbox.kill('code unavailable');
      return { failure: failure('platform_error', "The function's code is not available on this worker", { ...cold, instanceId: sandbox.id }) };
    }
    const grants = new Map<string, readonly string[]>();
    const listener = this.#objects && sandboxHostApi(this.#objects, { ownerId: target.ownerId, functionId: target.functionId, granted: () => [...grants.values()].flat() });
    const hostApi = listener && { listener, maxConnections: this.#hostApi.maxConnectionsPerInstance, budget: this.#budgets.of(target.ownerId) };
    let loaded: LoadOutcome;
    try {
      loaded = await sandbox.load({
        runtime: target.runtime,
        codeDir,
        handler: target.handler,
        env: spec.env,
        functionId: target.functionId,
        functionName: target.functionName,
        functionVersion: String(target.version),
        deadlineMs: deadline,
        limits: { memoryMb, cpuQuotaPercent: cpuQuotaFor(target.limits, this.#cpu) },
        hostApi,
      });
    } catch (err) {
      // Specialising touches the host (cgroup limits, the code's files, the host API's socket): out of descriptors, say, it fails.
      log.error({ err, functionId: target.functionId }, 'specialising an instance failed');
      void sandbox.kill('specialising failed');
      return { failure: failure('platform_error', 'The instance could not be prepared for the function; retry shortly', { ...cold, instanceId: sandbox.id }) };
    }
    if (loaded.kind !== 'loaded') {
      void sandbox.kill('load failed');
      return { failure: toInvocationResult(loaded, { ...cold, instanceId: sandbox.id }) };
    }
    const instance = new ManagedInstance(sandbox, target, key, kind, this.#load, grants);
    void sandbox.exited.then(() => this.#onExit(instance));
    return { instance };
  }
}
