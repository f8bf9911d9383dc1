import {
  SandboxStartError,
  SandboxStateError,
  type ExitCause,
  type InstanceExit,
  type InstanceSpec,
  type InstanceState,
  type InstanceStats,
  type InvokeOutcome,
  type InvokeRequest,
  type LoadOutcome,
  type LoadRequest,
  type SandboxInstance,
  type StreamRequest,
  type StreamSession,
  type SandboxRuntime,
  STEM_RUNTIME,
} from '../driver.ts';
import { canTransition } from '../../core/instance-state.ts';
import { narrowLimits, type ResolvedLimits } from '../limits.ts';
import { stageCode } from './code-stage.ts';
import type { Termination } from './pending-call.ts';
import { InstancePorts } from './ports.ts';
import { RuntimeChannel } from './runtime-channel.ts';
import { SandboxProcess, type ProcessEnd, type SandboxProcessOptions } from './sandbox-process.ts';

export interface ProcessInstanceOptions extends SandboxProcessOptions {
  spec: InstanceSpec;
  limits: ResolvedLimits;
}

/**
 * One runtime process and everything it holds: the single owner of its life and of its state. It
 * composes the process (spawn, kill, exit, host resources: sandbox-process.ts), the protocol spoken with
 * the runtime (runtime-channel.ts) and what the instance serves to the sandbox (ports.ts); every change
 * of state happens here, through #transition.
 */
export class ProcessInstance implements SandboxInstance {
  readonly id: string;
  readonly exited: Promise<InstanceExit>;
  #state: InstanceState = 'starting';
  #runtime: SandboxRuntime;
  readonly #options: ProcessInstanceOptions;
  #limits: ResolvedLimits;
  readonly #process: SandboxProcess;
  readonly #channel: RuntimeChannel;
  readonly #ports: InstancePorts;
  #termination: Termination | null = null;
  #onReady: { resolve: () => void; reject: (err: Error) => void } | null = null;
  #resolveExit: (exit: InstanceExit) => void = () => {};

  /** Resolves once the runtime reported ready; on failure nothing of the instance is left behind. */
  static async start(options: ProcessInstanceOptions, timeoutMs: number): Promise<ProcessInstance> {
    let instance: ProcessInstance;
    try {
      instance = new ProcessInstance(options);
    } catch (err) {
      await SandboxProcess.discard(options);
      throw new SandboxStartError(`could not spawn the runtime: ${(err as Error).message}`, { cause: err });
    }
    await instance.#boot(timeoutMs);
    return instance;
  }

  private constructor(options: ProcessInstanceOptions) {
    this.id = options.spec.id;
    this.#runtime = options.spec.runtime;
    this.#options = options;
    this.#limits = options.limits;
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    this.#ports = new InstancePorts(options.dirs.services, options.plan.bwrap);
    this.#process = new SandboxProcess(options, {
      output: (chunk, text) => this.#channel.rawOutput(chunk, text),
      exiting: () => this.#ports.close(),
      exited: (end) => void this.#onExit(end),
    });
    this.#channel = new RuntimeChannel(this.#process.protocolIn, this.#process.protocolOut, {
      limits: () => this.#limits,
      ending: () => this.#termination,
      terminate: (cause, reason, callId) => this.#terminate(cause, reason, callId),
      oomKilled: () => this.#process.oomKilled(),
      ready: () => {
        if (this.#state === 'starting') this.#transition('stem');
        this.#onReady?.resolve();
      },
      loaded: () => {
        if (this.#state === 'loading') this.#transition('ready');
      },
      idle: () => {
        if (this.#state === 'busy') this.#transition('ready');
      },
    });
  }

  get runtime(): SandboxRuntime {
    return this.#runtime;
  }

  get state(): InstanceState {
    return this.#state;
  }

  get pid(): number | null {
    return this.#process.pid;
  }

  async load(request: LoadRequest): Promise<LoadOutcome> {
    if (this.#state !== 'stem') throw new SandboxStateError(`load needs a stem instance, this one is ${this.#state}`);
    assertDeadline(request.deadlineMs);
    const runtime = request.runtime ?? this.#runtime;
    if (STEM_RUNTIME[runtime] !== STEM_RUNTIME[this.#runtime]) throw new RangeError(`a ${this.#runtime} instance cannot be loaded as ${runtime}`);
    const limits = request.limits ? narrowLimits(this.#limits, request.limits, runtime) : this.#limits;
    this.#transition('loading');
    this.#runtime = runtime;
    this.#limits = limits;
    try {
      this.#process.setLimits(limits);
      const hostApi = request.hostApi && this.#ports.openHostApi(request.hostApi, () => this.#channel.inFlight > 0);
      const [staged, server] = await Promise.allSettled([stageCode(request.codeDir, this.#options.dirs.code), hostApi]);
      if (staged.status === 'rejected') throw staged.reason;
      if (server.status === 'rejected') throw server.reason;
    } catch (err) {
      await this.kill(`specialising failed: ${(err as Error).message}`);
      throw err;
    }
    return this.#channel.load(request, runtime, request.hostApi ? this.#ports.hostApiAddress(request.hostApi.maxConnections) : undefined);
  }

  invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    if (this.#state !== 'ready' && this.#state !== 'busy') throw new SandboxStateError(`invoke needs a loaded instance, this one is ${this.#state}`);
    assertDeadline(request.deadlineMs);
    const outcome = this.#channel.invoke(request, this.#runtime);
    if (this.#state === 'ready') this.#transition('busy');
    return outcome;
  }

  openStream(request: StreamRequest): StreamSession {
    if (this.#state !== 'ready') throw new SandboxStateError(`a stream needs a ready instance, this one is ${this.#state}`);
    assertDeadline(request.deadlineMs);
    const session = this.#channel.openStream(request);
    this.#transition('busy');
    return session;
  }

  stats(): Promise<InstanceStats> {
    return this.#process.stats({ memoryLimitBytes: this.#limits.memoryMb * 1024 * 1024, cpuLimitCores: this.#limits.cpuQuotaPercent === null ? null : this.#limits.cpuQuotaPercent / 100 });
  }

  processes(): Promise<number[]> {
    return this.#process.processes();
  }

  kill(reason: string): Promise<InstanceExit> {
    this.#terminate('killed', reason, null, true);
    return this.exited;
  }

  /** Every change of state goes through the one table (core/instance-state.ts). */
  #transition(to: InstanceState): void {
    if (to === this.#state && to !== 'dead') return;
    if (!canTransition(this.#state, to)) throw new SandboxStateError(`instance ${this.id} cannot go from ${this.#state} to ${to}`);
    this.#state = to;
  }

  async #boot(timeoutMs: number): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => (this.#onReady = { resolve, reject }));
    ready.catch(() => {});
    const timer = setTimeout(() => this.#terminate('crashed', `the runtime was not ready within ${timeoutMs} ms`, null), timeoutMs);
    try {
      await this.#process.admit(() => this.#termination === null);
      if (this.#termination) this.#process.kill();
      this.#process.watchMemory(() => this.#limits.memoryMb * 1024 * 1024, () => this.#terminate('oom', 'memory limit exceeded (RSS watchdog)', this.#channel.soleCallId));
      await ready;
      if (this.#termination) throw new Error(`the runtime did not start: ${this.#termination.reason}`);
    } catch (err) {
      const exit = await this.kill('start failed');
      const detail = exit.stderrTail.trim() ? `: ${exit.stderrTail.trim()}` : '';
      throw new SandboxStartError(`${(err as Error).message}${detail}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /** `byOwner`: stopped through kill() by whoever owns the instance, not by anything the instance did. */
  #terminate(cause: ExitCause, reason: string, callId: string | null, byOwner = false): void {
    if (this.#termination || this.#state === 'dead') return;
    this.#termination = { cause, reason, callId, byOwner };
    this.#transition('stopping');
    this.#process.kill();
  }

  async #onExit(gone: ProcessEnd): Promise<void> {
    const end: Termination = this.#termination ?? (gone.oom
      ? { cause: 'oom', reason: 'memory limit exceeded', callId: null }
      : { cause: 'crashed', reason: gone.reason, callId: this.#channel.soleCallId });
    this.#termination = end;
    this.#transition('dead');
    this.#channel.close(end, gone.status);
    this.#onReady?.reject(new Error(`the runtime did not start: ${end.reason}`));
    await this.#process.release();
    this.#resolveExit({ cause: end.cause, reason: end.reason, ...gone.status, stderrTail: this.#process.outputTail });
  }
}

function assertDeadline(deadlineMs: number): void {
  if (!Number.isFinite(deadlineMs)) throw new TypeError(`deadlineMs must be an epoch-ms timestamp, got ${deadlineMs}`);
}
