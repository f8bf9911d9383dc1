import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstanceStats } from '../driver.ts';
import type { InstanceCgroup } from '../cgroup/instance-cgroup.ts';
import type { ResolvedLimits } from '../limits.ts';
import { PROTOCOL_FD_IN, PROTOCOL_FD_OUT } from '../protocol.ts';
import { removeInstanceDirs, type InstanceDirs } from './instance-dirs.ts';
import { admit, spawnRuntime, type LaunchPlan } from './launch.ts';
import type { PreparedLauncher } from './launcher-pool.ts';
import type { ExitStatus } from './pending-call.ts';
import { describeExit, exitStatus, killGroup, sigkill } from './exit-status.ts';
import { descendantsOf, treeUsage } from './process-tree.ts';
import { startRssWatchdog } from './rss-watchdog.ts';

export interface SandboxProcessOptions {
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

/** What the process tells its owner. */
export interface ProcessEvents {
  /** Bytes the runtime wrote raw to fd 1/2, bypassing the protocol (`text`: the chunk decoded). */
  output(chunk: Buffer, text: string): void;
  /** The process exited; its resources are being released (nothing it served should stay open). */
  exiting(): void;
  /** Nothing of the process runs any more and its raw output has drained; its directories and uid are still held (release()). */
  exited(end: ProcessEnd): void;
}

/** How the process ended, as far as the process itself can tell. */
export interface ProcessEnd {
  status: ExitStatus;
  /** The memory cgroup's OOM killer struck, or V8 reported running out of heap. */
  oom: boolean;
  /** Why it is gone: the spawn error, or its exit code or signal. */
  reason: string;
}

const TAIL_CHARS = 4096;
const V8_HEAP_OOM = /JavaScript heap out of memory|Reached heap limit/;

/**
 * The runtime process (under bwrap, normally) and what it holds on the host: spawn, admission into its
 * cgroup, kill, exit, and the release of its cgroup, directories and uid. It knows nothing of the
 * protocol spoken over its fds 3/4: `protocolIn`/`protocolOut` are for whoever speaks it.
 */
export class SandboxProcess {
  readonly protocolIn: Writable;
  readonly protocolOut: Readable;
  readonly #options: SandboxProcessOptions;
  readonly #events: ProcessEvents;
  readonly #child: ChildProcess;
  readonly #closed: Promise<unknown>;
  #pid: number | null;
  /** Host pid of the runtime, which is pid 1 of its namespace: killing it takes down the whole namespace. */
  #sandboxInitPid: number | null = null;
  #exiting = false;
  #gone = false;
  #outputTail = '';
  #stopWatchdog = (): void => {};

  /** Releases what was prepared for a process that could not be spawned (its cgroup, directories and uid). */
  static async discard(options: SandboxProcessOptions): Promise<void> {
    await options.cgroup?.destroy();
    await removeInstanceDirs(options.dirs).catch(() => {});
    options.releaseUid();
  }

  /** Spawns the plan's command (or execs it in the launcher); throws when that fails synchronously. */
  constructor(options: SandboxProcessOptions, events: ProcessEvents) {
    this.#options = options;
    this.#events = events;
    const child = options.launcher ? options.launcher.exec(options.plan.command) : spawnRuntime(options.plan);
    // A spawn that failed at run time (EMFILE, EAGAIN) has no pid and no stdio, and reports in an 'error' event, fatal if unheard.
    if (child.pid === undefined) {
      child.on('error', () => {});
      throw new Error('the runtime could not be spawned (out of file descriptors or processes)');
    }
    this.#child = child;
    this.#pid = child.pid ?? null;
    for (const stream of child.stdio) stream?.on('error', () => {});
    this.protocolIn = child.stdio[PROTOCOL_FD_IN] as Writable;
    this.protocolOut = child.stdio[PROTOCOL_FD_OUT] as Readable;
    child.stdout!.on('data', (chunk: Buffer) => this.#onRawOutput(chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.#onRawOutput(chunk));
    this.#closed = new Promise((resolve) => child.once('close', resolve));
    child.once('exit', (code, signal) => void this.#onExit(code, signal));
    // After a spawn, only kill() reports here (EPERM); the exit says what became of the process.
    child.on('error', () => {});
  }

  /** Host pid of the outermost process, null once it is gone. */
  get pid(): number | null {
    return this.#pid;
  }

  /** The last few KiB of raw output (fd 1/2), for diagnosing crashes. */
  get outputTail(): string {
    return this.#outputTail;
  }

  /** Places the process in its cgroup and lets the sandbox start, if `shouldStart()` still says so then. */
  async admit(shouldStart: () => boolean): Promise<void> {
    this.#sandboxInitPid = await admit(this.#child, this.#options.plan, this.#options.cgroup, shouldStart, this.#options.launcher !== undefined);
  }

  /** Without a memory cgroup (`rssWatchdog`), polls the process tree's memory against `limitBytes()`. */
  watchMemory(limitBytes: () => number, onExceeded: () => void): void {
    if (this.#options.rssWatchdog && this.#pid !== null) this.#stopWatchdog = startRssWatchdog(this.#pid, limitBytes, onExceeded);
  }

  /** Applies (narrowed) limits to the cgroup, if there is one. */
  setLimits(limits: ResolvedLimits): void {
    this.#options.cgroup?.update(limits);
  }

  /** Whether the memory cgroup's OOM killer has struck. */
  oomKilled(): boolean {
    return this.#options.cgroup?.oomKilled() ?? false;
  }

  async stats(limits: Pick<InstanceStats, 'memoryLimitBytes' | 'cpuLimitCores'>): Promise<InstanceStats> {
    const { cgroup } = this.#options;
    if (cgroup && !this.#gone) return { ...cgroup.usage(), ...limits, processes: cgroup.pids().length, source: 'cgroup' };
    return { ...treeUsage(await this.processes()), ...limits, source: 'proc' };
  }

  async processes(): Promise<number[]> {
    if (this.#gone) return [];
    if (this.#options.cgroup) return this.#options.cgroup.pids();
    return this.#pid === null ? [] : descendantsOf(this.#pid);
  }

  /**
   * SIGKILLs the process (and stops watching its memory). With bwrap, the namespace's init (the
   * runtime) is killed, not bwrap itself: the kernel then kills everything in the pid namespace and
   * bwrap reaps the init and exits. Killing bwrap first would orphan the init to the host's pid 1,
   * which may not reap it promptly (a zombie). bwrap is killed only as a last resort.
   */
  kill(): void {
    this.#stopWatchdog();
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

  /** Removes the instance's directories and returns its uid: call once `exited` was told. */
  async release(): Promise<void> {
    await removeInstanceDirs(this.#options.dirs).catch(() => {});
    this.#options.releaseUid();
  }

  #onRawOutput(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    this.#outputTail = (this.#outputTail + text).slice(-TAIL_CHARS);
    this.#events.output(chunk, text);
  }

  async #onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#stopWatchdog();
    this.#events.exiting();
    const status = exitStatus(code, signal, this.#options.plan.bwrap);
    const { cgroup } = this.#options;
    const cgroupOom = cgroup?.oomKilled() ?? false;
    // Whatever is left (nothing, with a pid namespace) dies now; then let the raw output drain.
    if (cgroup) await cgroup.destroy();
    else if (!this.#options.plan.bwrap && this.#pid !== null) killGroup(this.#pid);
    await Promise.race([this.#closed, sleep(500)]);
    const oom = cgroupOom || V8_HEAP_OOM.test(this.#outputTail);
    this.#gone = true;
    this.#pid = null;
    this.#events.exited({ status, oom, reason: `the runtime exited (${describeExit(status)})` });
  }
}
