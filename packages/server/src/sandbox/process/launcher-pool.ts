import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { CgroupCapabilities } from '../driver.ts';
import { createInstanceCgroup, type InstanceCgroup } from '../cgroup/instance-cgroup.ts';
import { BOOT_CPU_QUOTA_PERCENT, resolveLimits } from '../limits.ts';
import { PROTOCOL_FD_IN } from '../protocol.ts';
import { createInstanceDirs, removeInstanceDirs, type InstanceDirs } from './instance-dirs.ts';
import { spawnRuntime } from './launch.ts';
import type { UidPool } from './uid-pool.ts';

/**
 * Reads one line on fd 3, the JSON argv of the sandbox command, and execs it. The host writes
 * nothing else on fd 3 before the runtime has said it is ready, so reading in chunks over-reads nothing.
 */
const LAUNCHER_SCRIPT = `
import os, json
line = b""
while not line.endswith(b"\\n"):
    chunk = os.read(3, 65536)
    if not chunk:
        os._exit(0)
    line += chunk
argv = json.loads(line)
os.execv(argv[0], argv)
`;

/** A process waiting to exec its instance's sandbox command, with the instance's uid, directories and cgroup ready. */
export class PreparedLauncher {
  readonly uid: number | null;
  readonly dirs: InstanceDirs;
  readonly cgroup: InstanceCgroup;
  readonly #child: ChildProcess;
  readonly #uidPool: UidPool | null;
  #used = false;

  constructor(child: ChildProcess, uid: number | null, dirs: InstanceDirs, cgroup: InstanceCgroup, uidPool: UidPool | null) {
    this.#child = child;
    // Idle, it must not keep the platform's event loop alive (it exits by itself when the platform does).
    setRef(child, false);
    this.uid = uid;
    this.dirs = dirs;
    this.cgroup = cgroup;
    this.#uidPool = uidPool;
  }

  get alive(): boolean {
    return !this.#used && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Execs `command` in the waiting process: the returned child is the sandbox's (the pid stays). */
  exec(command: string[]): ChildProcess {
    this.#used = true;
    setRef(this.#child, true);
    (this.#child.stdio[PROTOCOL_FD_IN] as Writable).write(`${JSON.stringify(command)}\n`);
    return this.#child;
  }

  /** Stops a launcher that will never exec and gives back its uid, cgroup and directories. */
  async discard(): Promise<void> {
    if (this.#used) return;
    this.#used = true;
    await stop(this.#child);
    await this.cgroup.destroy();
    await removeInstanceDirs(this.dirs).catch(() => {});
    if (this.uid !== null) this.#uidPool?.release(this.uid);
  }
}

interface Options {
  size: number;
  workDir: string;
  cgroup: CgroupCapabilities;
  uidPool: UidPool | null;
  python: string;
  seccompFilter: string | null;
  /** A fresh instance name (`<platform pid>-…`, so the leftovers of a dead platform are swept like any instance's). */
  name: () => string;
}

const REFILL_DELAY_MS = 100;

/**
 * Pre-admitted launchers for bwrap: small Python processes that already run as their instance's
 * uid, inside their instance's cgroup, with the instance's directories made and the sandbox's file
 * descriptors (protocol pipes, bwrap's block and info fds, the seccomp filter) in place. A cold start
 * that takes one pays neither the spawn from the platform's large process (2–3 ms) nor the move into
 * the cgroup: on cgroup v1, the first write to cgroup.procs after a quiet spell waits for an RCU
 * grace period (5–15 ms measured on the dev machines). Nothing of a function runs in a launcher.
 */
export class LauncherPool {
  readonly #options: Options;
  readonly #ready: PreparedLauncher[] = [];
  #preparing = 0;
  #closed = false;
  #failures = 0;
  /** Once one launcher has worked, failures are passing (out of descriptors, say): keep trying at each take. */
  #worked = false;

  constructor(options: Options) {
    this.#options = options;
  }

  fill(): void {
    if (this.#closed || (this.#failures >= 3 && !this.#worked)) return;
    for (let i = this.#ready.length + this.#preparing; i < this.#options.size; i++) void this.#prepareOne();
  }

  /** A ready launcher, or undefined (the caller then spawns the usual way). */
  take(): PreparedLauncher | undefined {
    let launcher: PreparedLauncher | undefined;
    while ((launcher = this.#ready.shift()) !== undefined && !launcher.alive) void launcher.discard();
    // A moment later: preparing one now would compete for the CPU with the start it serves.
    if (!this.#closed) setTimeout(() => this.fill(), REFILL_DELAY_MS).unref();
    return launcher;
  }

  get ready(): number {
    return this.#ready.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#ready.splice(0).map((l) => l.discard()));
  }

  async #prepareOne(): Promise<void> {
    this.#preparing++;
    const { workDir, uidPool, python, seccompFilter } = this.#options;
    const name = this.#options.name();
    const uid = uidPool?.acquire() ?? null;
    let dirs: InstanceDirs | null = null;
    let cgroup: InstanceCgroup | null = null;
    let child: ChildProcess | null = null;
    try {
      dirs = createInstanceDirs(workDir, name, uid);
      // Provisional limits: the start sets the instance's own (a launcher needs a few MB and no more CPU than a boot).
      cgroup = createInstanceCgroup(this.#options.cgroup, name, resolveLimits({ memoryMb: 128, cpuQuotaPercent: BOOT_CPU_QUOTA_PERCENT }, null));
      if (cgroup === null) throw new Error('no memory cgroup');
      child = spawnRuntime({ command: [python, '-I', '-S', '-c', LAUNCHER_SCRIPT], env: {}, uid, bwrap: true, seccompFilter });
      // A spawn that failed for want of descriptors or processes (no pid, no stdio) says so in an 'error' event, fatal if unheard.
      child.on('error', () => {});
      if (child.pid === undefined) throw new Error('the launcher could not be spawned');
      for (const stream of child.stdio) stream?.on('error', () => {});
      await cgroup.addProcessAsync(child.pid);
      const launcher = new PreparedLauncher(child, uid, dirs, cgroup, uidPool);
      if (this.#closed || !launcher.alive) {
        await launcher.discard();
        return;
      }
      this.#failures = 0;
      this.#worked = true;
      this.#ready.push(launcher);
    } catch {
      this.#failures++;
      if (child !== null) await stop(child);
      await cgroup?.destroy();
      if (dirs !== null) await removeInstanceDirs(dirs).catch(() => {});
      if (uid !== null) uidPool?.release(uid);
    } finally {
      this.#preparing--;
    }
  }
}

function setRef(child: ChildProcess, ref: boolean): void {
  if (ref) child.ref();
  else child.unref();
  for (const stream of child.stdio) {
    const handle = stream as unknown as { ref?: () => void; unref?: () => void } | null;
    if (ref) handle?.ref?.();
    else handle?.unref?.();
  }
}

async function stop(child: ChildProcess): Promise<void> {
  // Never spawned (EMFILE, EAGAIN): its handle has no pid, and killing it would signal pid 0, the platform's own process group.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.ref();
  child.kill('SIGKILL');
  await exited;
}
