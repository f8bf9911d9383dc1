import type { SandboxInstance } from '../sandbox/driver.ts';
import { LoadTracker, type LoadSettings } from './load.ts';

/** An instance specialised for one function version, with the scheduler's bookkeeping. */
export class ManagedInstance {
  readonly sandbox: SandboxInstance;
  readonly key: string;
  readonly ownerId: string;
  readonly functionId: string;
  readonly functionName: string;
  readonly version: number;
  readonly startedAt = Date.now();
  lastUsedAt = Date.now();
  inFlight = 0;
  invocations = 0;
  /** Object references granted per in-flight execution id (read by the instance's host API). */
  readonly grants: Map<string, string[]>;
  readonly concurrency: number;
  /** Fed by the LoadSampler every interval; read by placement. */
  readonly load: LoadTracker;

  constructor(sandbox: SandboxInstance, target: { ownerId: string; functionId: string; functionName: string; version: number; concurrency: number }, key: string, load: LoadSettings, grants = new Map<string, string[]>()) {
    this.sandbox = sandbox;
    this.concurrency = target.concurrency;
    this.load = new LoadTracker(load);
    this.grants = grants;
    this.key = key;
    this.ownerId = target.ownerId;
    this.functionId = target.functionId;
    this.functionName = target.functionName;
    this.version = target.version;
  }

  get id(): string {
    return this.sandbox.id;
  }

  /** Usable for another invocation: alive, loaded, not past its concurrency. */
  canTake(concurrency: number): boolean {
    const state = this.sandbox.state;
    return (state === 'ready' || (state === 'busy' && this.inFlight > 0)) && this.inFlight < concurrency;
  }

  get alive(): boolean {
    return this.sandbox.state !== 'dead' && this.sandbox.state !== 'stopping';
  }
}
