import type { InvocationTarget } from '../core/invocation.ts';
import type { SandboxInstance } from '../sandbox/driver.ts';
import { LoadTracker, type LoadSettings } from './load.ts';

/**
 * What an instance is leased for: `invoke` instances are shared by up to `concurrency` invocations,
 * `stream` instances serve one session at a time (an exclusive lease).
 */
export type LeaseKind = 'invoke' | 'stream';

/** An instance specialised for one function version, with the pool's bookkeeping. */
export class ManagedInstance {
  readonly sandbox: SandboxInstance;
  readonly key: string;
  readonly kind: LeaseKind;
  readonly ownerId: string;
  readonly functionId: string;
  readonly functionName: string;
  readonly version: number;
  readonly concurrency: number;
  readonly startedAt = Date.now();
  lastUsedAt = Date.now();
  /** When the latest lease began (a session's start). */
  leasedAt = Date.now();
  /** Leases held now (an exclusive lease counts one). */
  inFlight = 0;
  /** Invocations or sessions served so far. */
  invocations = 0;
  /** Object references granted per in-flight execution id (read by the instance's host API). */
  readonly grants: Map<string, readonly string[]>;
  /** Fed by the LoadSampler every interval; read by placement. */
  readonly load: LoadTracker;

  constructor(sandbox: SandboxInstance, target: InvocationTarget, key: string, kind: LeaseKind, load: LoadSettings, grants: Map<string, readonly string[]>) {
    this.sandbox = sandbox;
    this.key = key;
    this.kind = kind;
    this.ownerId = target.ownerId;
    this.functionId = target.functionId;
    this.functionName = target.functionName;
    this.version = target.version;
    this.concurrency = kind === 'stream' ? 1 : target.limits.concurrency;
    this.load = new LoadTracker(load);
    this.grants = grants;
  }

  get id(): string {
    return this.sandbox.id;
  }

  /** Usable for another lease: alive, loaded, not past its concurrency. */
  canTake(concurrency: number): boolean {
    const state = this.sandbox.state;
    return (state === 'ready' || (state === 'busy' && this.inFlight > 0)) && this.inFlight < concurrency;
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.sandbox.state === 'ready';
  }

  get alive(): boolean {
    return this.sandbox.state !== 'dead' && this.sandbox.state !== 'stopping';
  }
}
