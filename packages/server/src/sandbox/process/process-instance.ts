import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
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
import type { InstanceCgroup } from '../cgroup/instance-cgroup.ts';
import { canTransition } from '../../core/instance-state.ts';
import { narrowLimits, type ResolvedLimits } from '../limits.ts';
import { LineSplitter } from '../line-splitter.ts';
import { encodeInvoke, encodeMessage, parseSandboxMessage, PROTOCOL_FD_IN, PROTOCOL_FD_OUT, type SandboxMessage } from '../protocol.ts';
import { stageCode } from './code-stage.ts';
import { SANDBOX_PATHS } from './bwrap-args.ts';
import { openHostApi, type HostApiServer } from './host-api.ts';
import { removeInstanceDirs, type InstanceDirs } from './instance-dirs.ts';
import { admit, spawnRuntime, type LaunchPlan } from './launch.ts';
import type { PreparedLauncher } from './launcher-pool.ts';
import { captured, errorOutcome, newPendingCall, outcomeOnExit, type ExitStatus, type PendingCall, type Termination } from './pending-call.ts';
import { describeExit, exitStatus, killGroup, sigkill } from './exit-status.ts';
import { descendantsOf, treeUsage } from './process-tree.ts';
import { startRssWatchdog } from './rss-watchdog.ts';
import { ProcessStreamSession } from './stream-session.ts';

export interface ProcessInstanceOptions {
  spec: InstanceSpec;
  limits: ResolvedLimits;
  plan: LaunchPlan;
  cgroup: InstanceCgroup | null;
  dirs: InstanceDirs;
  /** No memory cgroup: enforce the memory limit by polling RSS. */
  rssWatchdog: boolean;
  /** Returns the instance's uid to the pool once nothing runs as it any more. */
  releaseUid: () => void;
  /** A pre-admitted process to exec the plan's command in, instead of spawning it. */
  launcher?: PreparedLauncher;
}

const TAIL_CHARS = 4096;
const V8_HEAP_OOM = /JavaScript heap out of memory|Reached heap limit/;

/** One runtime process (under bwrap, normally) and everything it holds: the single owner of its life. */
export class ProcessInstance implements SandboxInstance {
  readonly id: string;
  readonly exited: Promise<InstanceExit>;
  #state: InstanceState = 'starting';
  #runtime: SandboxRuntime;
  #pid: number | null;
  readonly #options: ProcessInstanceOptions;
  #limits: ResolvedLimits;
  readonly #child: ChildProcess;
  readonly #closed: Promise<unknown>;
  readonly #pending = new Map<string, PendingCall>();
  readonly #streams = new Map<string, ProcessStreamSession>();
  #calls = 0;
  #termination: Termination | null = null;
  #exiting = false;
  /** Host pid of the runtime, which is pid 1 of its namespace: killing it takes down the whole namespace. */
  #sandboxInitPid: number | null = null;
  #outputTail = '';
  #onReady: { resolve: () => void; reject: (err: Error) => void } | null = null;
  #resolveExit: (exit: InstanceExit) => void = () => {};
  #stopWatchdog = (): void => {};
  #hostApi: HostApiServer | null = null;

  /** Resolves once the runtime reported ready; on failure nothing of the instance is left behind. */
  static async start(options: ProcessInstanceOptions, timeoutMs: number): Promise<ProcessInstance> {
    let instance: ProcessInstance;
    try {
      instance = new ProcessInstance(options);
    } catch (err) {
      await options.cgroup?.destroy();
      await removeInstanceDirs(options.dirs).catch(() => {});
      options.releaseUid();
      throw new SandboxStartError(`could not spawn the runtime: ${(err as Error).message}`, { cause: err });
    }
    await instance.#boot(timeoutMs);
    return instance;
  }

  private constructor(options: ProcessInstanceOptions) {
    this.id = options.spec.id;
    this.#runtime = options.spec.runtime;
    this.#options = options;
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    const child = options.launcher ? options.launcher.exec(options.plan.command) : spawnRuntime(options.plan);
    this.#child = child;
    this.#pid = child.pid ?? null;
    for (const stream of child.stdio) stream?.on('error', () => {});
    this.#limits = options.limits;
    // Load can only narrow the limits, so a bound computed from the start limits holds for the instance's life.
    const maxLine = options.limits.outputBytes + 6 * options.limits.logBytes + 64 * 1024;
    const splitter = new LineSplitter(maxLine, (line) => this.#onLine(line), () => this.#terminate('output_truncated', 'the runtime sent an oversized message', this.#soleCall()?.id ?? null));
    (child.stdio[PROTOCOL_FD_OUT] as Readable).on('data', (chunk: Buffer) => splitter.push(chunk));
    child.stdout!.on('data', (chunk: Buffer) => this.#onRawOutput(chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.#onRawOutput(chunk));
    this.#closed = new Promise((resolve) => child.once('close', resolve));
    child.once('exit', (code, signal) => void this.#onExit(code, signal));
    child.once('error', (err) => {
      if (child.pid === undefined) void this.#onExit(null, null, `could not spawn: ${err.message}`);
    });
  }

  get runtime(): SandboxRuntime {
    return this.#runtime;
  }

  get state(): InstanceState {
    return this.#state;
  }

  get pid(): number | null {
    return this.#pid;
  }

  async load(request: LoadRequest): Promise<LoadOutcome> {
    if (this.#state !== 'stem') throw new SandboxStateError(`load needs a stem instance, this one is ${this.#state}`);
    assertDeadline(request.deadlineMs);
    const runtime = request.runtime ?? this.#runtime;
    if (STEM_RUNTIME[runtime] !== STEM_RUNTIME[this.#runtime]) throw new RangeError(`a ${this.#runtime} instance cannot be loaded as ${runtime}`);
    const limits = request.limits ? narrowLimits(this.#limits, request.limits) : this.#limits;
    this.#transition('loading');
    this.#runtime = runtime;
    this.#limits = limits;
    try {
      this.#options.cgroup?.update(limits);
      const hostApi = request.hostApi && openHostApi(path.join(this.#options.dirs.services, 'api.sock'), request.hostApi, () => this.#pending.size > 0);
      const [staged, server] = await Promise.allSettled([stageCode(request.codeDir, this.#options.dirs.code), hostApi]);
      if (server.status === 'fulfilled' && server.value) {
        this.#hostApi = server.value;
        if (this.#exiting) server.value.close();
      }
      if (staged.status === 'rejected') throw staged.reason;
      if (server.status === 'rejected') throw server.reason;
    } catch (err) {
      await this.kill(`specialising failed: ${(err as Error).message}`);
      throw err;
    }
    const id = `l${++this.#calls}`;
    const { logBytes, outputBytes, memoryMb } = this.#limits;
    // Unsandboxed there is no private network namespace: the forwarder must stay on the host's loopback.
    const api = request.hostApi ? (this.#options.plan.bwrap ? { socket: `${SANDBOX_PATHS.services}/api.sock` } : { socket: path.join(this.#options.dirs.services, 'api.sock'), host: '127.0.0.1' }) : undefined;
    const functionId = request.functionId ?? '';
    const env = functionId === '' ? request.env : { ...request.env, SKYSCALE_FUNCTION_ID: functionId };
    const line = encodeMessage({ type: 'load', id, runtime, handler: request.handler, env, functionId, functionName: request.functionName, functionVersion: request.functionVersion, limits: { logBytes, outputBytes, memoryMb }, api });
    return this.#call(id, 'load', line, request.deadlineMs) as Promise<LoadOutcome>;
  }

  invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    if (this.#state !== 'ready' && this.#state !== 'busy') throw new SandboxStateError(`invoke needs a loaded instance, this one is ${this.#state}`);
    assertDeadline(request.deadlineMs);
    const id = `i${++this.#calls}`;
    const event = request.event ?? null;
    const context = { executionId: request.executionId, deadline: request.deadlineMs };
    const line = this.#runtime === 'command'
      ? encodeMessage({ type: 'invoke', id, event: null, input: JSON.stringify(event), context })
      : encodeInvoke({ type: 'invoke', id, event, context }, request.eventJson);
    if (this.#state === 'ready') this.#transition('busy');
    return this.#call(id, 'invoke', line, request.deadlineMs) as Promise<InvokeOutcome>;
  }

  openStream(request: StreamRequest): StreamSession {
    if (this.#state !== 'ready') throw new SandboxStateError(`a stream needs a ready instance, this one is ${this.#state}`);
    assertDeadline(request.deadlineMs);
    const id = `s${++this.#calls}`;
    const port = { send: (line: string) => this.#send(line), violate: (reason: string) => this.#terminate('crashed', reason, id) };
    const session = new ProcessStreamSession(id, request, port, (open) => this.#call(id, 'stream', open, request.deadlineMs) as Promise<InvokeOutcome>);
    this.#streams.set(id, session);
    void session.outcome.then(() => this.#streams.delete(id));
    this.#transition('busy');
    return session;
  }

  async stats(): Promise<InstanceStats> {
    const { cgroup } = this.#options;
    const limits = { memoryLimitBytes: this.#limits.memoryMb * 1024 * 1024, cpuLimitCores: this.#limits.cpuQuotaPercent === null ? null : this.#limits.cpuQuotaPercent / 100 };
    if (cgroup && this.#state !== 'dead') return { ...cgroup.usage(), ...limits, processes: cgroup.pids().length, source: 'cgroup' };
    return { ...treeUsage(await this.processes()), ...limits, source: 'proc' };
  }

  async processes(): Promise<number[]> {
    if (this.#state === 'dead') return [];
    if (this.#options.cgroup) return this.#options.cgroup.pids();
    return this.#pid === null ? [] : descendantsOf(this.#pid);
  }

  kill(reason: string): Promise<InstanceExit> {
    this.#terminate('killed', reason, null);
    return this.exited;
  }

  /** Every change of state goes through the one table (sandbox/instance-state.ts). */
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
      this.#sandboxInitPid = await admit(this.#child, this.#options.plan, this.#options.cgroup, () => this.#termination === null, this.#options.launcher !== undefined);
      if (this.#termination) this.#killProcesses();
      if (this.#options.rssWatchdog && this.#pid !== null) {
        this.#stopWatchdog = startRssWatchdog(this.#pid, () => this.#limits.memoryMb * 1024 * 1024, () => this.#terminate('oom', 'memory limit exceeded (RSS watchdog)', this.#soleCall()?.id ?? null));
      }
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

  #call(id: string, kind: PendingCall['kind'], line: string, deadlineMs: number): Promise<InvokeOutcome | LoadOutcome> {
    return new Promise((settle) => {
      const call = newPendingCall(id, kind, this.#limits.logBytes, deadlineMs, settle, () => this.#terminate('timeout', `${kind} exceeded its deadline`, id));
      if (this.#termination) {
        clearTimeout(call.timer);
        settle(outcomeOnExit(call, this.#termination, { exitCode: null, signal: null }, this.#limits));
        return;
      }
      this.#pending.set(id, call);
      this.#send(line);
    });
  }

  #corked = false;

  /**
   * Writes to the runtime are coalesced per event-loop turn: many invocations arriving from different
   * sockets in one turn cost one write (and one wake-up of the sandbox) instead of one each.
   */
  #send(line: string): void {
    const stream = this.#child.stdio[PROTOCOL_FD_IN] as Writable;
    if (!this.#corked) {
      this.#corked = true;
      stream.cork();
      setImmediate(() => {
        this.#corked = false;
        stream.uncork();
      });
    }
    stream.write(line);
  }

  #take(id: string): PendingCall | undefined {
    const call = this.#pending.get(id);
    if (!call) return undefined;
    this.#pending.delete(id);
    clearTimeout(call.timer);
    return call;
  }

  #soleCall(): PendingCall | undefined {
    return this.#pending.size === 1 ? this.#pending.values().next().value : undefined;
  }

  #onLine(line: string): void {
    const message = parseSandboxMessage(line);
    if (!message) return this.#terminate('crashed', 'the runtime broke the protocol', this.#soleCall()?.id ?? null);
    if (message.type === 'ready') {
      if (this.#state === 'starting') this.#transition('stem');
      this.#onReady?.resolve();
    } else if (message.type === 'log') {
      this.#pending.get(message.id)?.logs.append(message.data);
    } else if (message.type === 'stream_data' || message.type === 'stream_ack' || message.type === 'stream_close') {
      this.#streams.get(message.id)?.receive(message);
    } else if (message.type === 'output_exceeded') {
      this.#pending.get(message.id)?.logs.producedAtLeast(message.bytes);
      this.#terminate('output_truncated', `more than ${this.#limits.outputBytes} bytes of output`, message.id);
    } else {
      // What the runtime wrote raw to fd 1/2 before replying (PHP's STDERR, a child process) is in
      // this poll batch too: settle after it, so it lands in the call's logs.
      setImmediate(() => this.#onReply(message));
    }
  }

  #onReply(message: Extract<SandboxMessage, { type: 'loaded' | 'result' }>): void {
    const call = this.#take(message.id);
    if (!call) return;
    call.logs.addDropped(message.dropped);
    if (message.type === 'loaded' && message.ok) {
      if (this.#state === 'loading') this.#transition('ready');
      call.settle({ kind: 'loaded', ...captured(call) });
    } else if (message.type === 'loaded' && !message.ok) {
      call.settle(errorOutcome(call, message.error));
      this.#terminate('killed', 'the function failed to load', null);
    } else if (message.type === 'result' && message.ok) {
      call.settle({ kind: 'ok', result: message.result, ...captured(call) });
    } else if (message.type === 'result' && !message.ok && (message.outOfMemory || (message.sigkilled && this.#options.cgroup?.oomKilled()))) {
      call.settle({ kind: 'oom', memoryMb: this.#limits.memoryMb, ...captured(call) });
      this.#terminate('oom', `${message.error.name}: ${message.error.message}`, null);
    } else if (message.type === 'result' && !message.ok) {
      call.settle(errorOutcome(call, message.error));
      if (message.exiting) this.#terminate('killed', `the runtime is ending: ${message.error.name}`, null);
    }
    if (this.#state === 'busy' && !this.#running()) this.#transition('ready');
  }

  /** Whether anything but a load is in flight (an invocation or a stream session). */
  #running(): boolean {
    for (const call of this.#pending.values()) if (call.kind !== 'load') return true;
    return false;
  }

  /** fd 1/2 bytes bypassed the bootstrap (a child process, a native write): still logs, still bounded. */
  #onRawOutput(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    this.#outputTail = (this.#outputTail + text).slice(-TAIL_CHARS);
    const call = this.#soleCall();
    if (!call) return;
    call.rawBytes += chunk.length;
    call.logs.append(text);
    // A stream session may run for hours: its logs are bounded (logBytes) but never fatal.
    if (call.kind !== 'stream' && call.rawBytes > this.#limits.outputBytes) this.#terminate('output_truncated', `more than ${this.#limits.outputBytes} bytes of output`, call.id);
  }

  #terminate(cause: ExitCause, reason: string, callId: string | null): void {
    if (this.#termination || this.#state === 'dead') return;
    this.#termination = { cause, reason, callId };
    this.#transition('stopping');
    this.#stopWatchdog();
    this.#killProcesses();
  }

  /**
   * With bwrap, the namespace's init (the runtime) is killed, not bwrap itself: the kernel then kills
   * everything in the pid namespace and bwrap reaps the init and exits. Killing bwrap first would
   * orphan the init to the host's pid 1, which may not reap it promptly (a zombie). bwrap is killed
   * only as a last resort.
   */
  #killProcesses(): void {
    if (this.#exiting) return;
    if (!this.#options.plan.bwrap) {
      if (this.#pid !== null) killGroup(this.#pid);
      return;
    }
    // Until bwrap reports its init, admit() holds it back and kills it on arrival instead of starting it.
    const init = this.#sandboxInitPid;
    const { cgroup } = this.#options;
    if (init !== null && (!cgroup || cgroup.pids().includes(init))) sigkill(init);
    setTimeout(() => {
      if (!this.#exiting) this.#child.kill('SIGKILL');
    }, 2000).unref();
  }

  async #onExit(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): Promise<void> {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#stopWatchdog();
    this.#hostApi?.close();
    const status = exitStatus(code, signal, this.#options.plan.bwrap);
    const { cgroup } = this.#options;
    const cgroupOom = cgroup?.oomKilled() ?? false;
    // Whatever is left (nothing, with a pid namespace) dies now; then let the raw output drain.
    if (cgroup) await cgroup.destroy();
    else if (!this.#options.plan.bwrap && this.#pid !== null) killGroup(this.#pid);
    await Promise.race([this.#closed, sleep(500)]);
    const oom = cgroupOom || V8_HEAP_OOM.test(this.#outputTail);
    const end: Termination = this.#termination ?? (oom
      ? { cause: 'oom', reason: 'memory limit exceeded', callId: null }
      : { cause: 'crashed', reason: spawnError ?? `the runtime exited (${describeExit(status)})`, callId: this.#soleCall()?.id ?? null });
    this.#termination = end;
    this.#transition('dead');
    this.#pid = null;
    for (const call of this.#pending.values()) {
      clearTimeout(call.timer);
      call.settle(outcomeOnExit(call, end, status, this.#limits));
    }
    this.#pending.clear();
    this.#onReady?.reject(new Error(`the runtime did not start: ${end.reason}`));
    await removeInstanceDirs(this.#options.dirs).catch(() => {});
    this.#options.releaseUid();
    this.#resolveExit({ cause: end.cause, reason: end.reason, ...status, stderrTail: this.#outputTail });
  }
}

function assertDeadline(deadlineMs: number): void {
  if (!Number.isFinite(deadlineMs)) throw new TypeError(`deadlineMs must be an epoch-ms timestamp, got ${deadlineMs}`);
}
