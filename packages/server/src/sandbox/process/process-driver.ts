import { isAlive, prepareCgroupParents, sweepStaleGroups } from '../cgroup/detect.ts';
import { createInstanceCgroup, type InstanceCgroup } from '../cgroup/instance-cgroup.ts';
import {
  RuntimeUnavailableError,
  SandboxStartError,
  SandboxUnavailableError,
  type CgroupCapabilities,
  type InstanceSpec,
  type SandboxCapabilities,
  type SandboxDriver,
  type SandboxInstance,
  type SandboxRuntime,
  STEM_RUNTIME,
} from '../driver.ts';
import { resolveLimits, type ResolvedLimits } from '../limits.ts';
import { buildBwrapArgs, SANDBOX_PATHS } from './bwrap-args.ts';
import { createInstanceDirs, removeInstanceDirs, sweepStaleInstanceDirs, type InstanceDirs } from './instance-dirs.ts';
import { LauncherPool } from './launcher-pool.ts';
import { BLOCK_FD, INFO_FD, SECCOMP_FD, type LaunchPlan } from './launch.ts';
import { findExecutable, probeBwrap, unreachableAncestor, type BwrapInfo } from './probe.ts';
import { ProcessInstance } from './process-instance.ts';
import { baseEnv, resolveNode, resolvePhp, resolvePython, runtimeCommand, sandboxPath, type InterpreterRuntime, type RuntimeBinary } from './runtime-binaries.ts';
import { reachableBinary } from './reachable-copy.ts';
import { prepareRuntimeFiles, withCompiledPythonBootstrap, type RuntimeFiles } from './runtime-files.ts';
import { seccompProgram } from './seccomp.ts';
import { UidPool } from './uid-pool.ts';
import { prepareWorkDir, workDirCandidates } from './work-dir.ts';

export interface ProcessDriverOptions {
  /**
   * Host directory for per-instance code dirs, interpreter copies and the runtime files; must not be
   * under a 0700 dir. Sandboxes see its path in /proc/self/mountinfo: the default (work-dir.ts) is
   * /var/lib/skyscale-sandboxes as root, else $TMPDIR/skyscale-sandboxes-<uid>.
   */
  workDir?: string;
  /** SANDBOX=none: run without bubblewrap when it is missing (no isolation; logged loudly). */
  allowUnsandboxed?: boolean;
  bwrapPath?: string;
  /** Defaults to the platform's own Node (process.execPath). */
  nodePath?: string;
  /** Defaults to Debian's /usr/bin/python3 — never a pyenv shim (~130 ms per start). */
  pythonPath?: string;
  /** Defaults to /usr/bin/php; without a working php-cli the php runtime is unavailable. */
  phpPath?: string;
  /** false = ignore cgroups and use the fallbacks (RSS watchdog, RLIMIT_NPROC). */
  cgroups?: boolean;
  /** Name of the parent cgroup under each controller. */
  cgroupName?: string;
  startTimeoutMs?: number;
  logger?: { warn(message: string): void };
  /**
   * Pre-admitted launchers to keep ready (see LauncherPool): they take the spawn and the cgroup move
   * off a cold start. 0 (the default) spawns every instance on demand. Needs bwrap, a memory cgroup and Python.
   */
  launchers?: number;
}

interface HostSetup {
  workDir: string;
  caps: SandboxCapabilities;
  /** What makes start() impossible whatever the isolation (also listed in caps.warnings). */
  problems: string[];
  bwrap: BwrapInfo | null;
  prlimit: string | null;
  binaries: Partial<Record<InterpreterRuntime, RuntimeBinary>>;
  /** Read-only binds of every interpreter: each sandbox can run all of them (a command function may call python3 or node). */
  binds: Array<{ host: string; inside: string }>;
  /** PATH inside the sandbox, and on the host when unsandboxed. */
  pathInside: string;
  pathOutside: string;
  files: RuntimeFiles;
  uidPool: UidPool | null;
  launchers: LauncherPool | null;
}

const MiB = 1024 * 1024;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/** Long-lived runtime processes under bubblewrap, limited by cgroups. */
export class ProcessDriver implements SandboxDriver {
  readonly name = 'process';
  readonly #options: ProcessDriverOptions;
  #setup: Promise<HostSetup> | null = null;
  #warnedUnsandboxed = false;
  /** Ids of live instances: an id names a cgroup and a directory, so two at once would share them. */
  readonly #liveIds = new Set<string>();

  constructor(options: ProcessDriverOptions = {}) {
    this.#options = options;
  }

  async probe(): Promise<SandboxCapabilities> {
    return (await this.#host()).caps;
  }

  async start(spec: InstanceSpec): Promise<SandboxInstance> {
    const host = await this.#host();
    if (!ID_PATTERN.test(spec.id)) throw new RangeError(`instance id must match ${ID_PATTERN}, got ${JSON.stringify(spec.id)}`);
    const limits = resolveLimits(spec.limits, spec.runtime);
    const binary = host.binaries[STEM_RUNTIME[spec.runtime] as InterpreterRuntime];
    if (!binary) throw new RuntimeUnavailableError(`the ${spec.runtime} runtime is not available on this host: ${host.caps.warnings.find((w) => w.startsWith(`${STEM_RUNTIME[spec.runtime]} runtime`)) ?? 'its interpreter is missing'}`);
    if (host.problems.length > 0) throw new SandboxUnavailableError(`the sandbox cannot run on this host: ${host.problems.join('; ')}`);
    if (!host.caps.usable) throw new SandboxUnavailableError(`refusing to run untrusted code without isolation: ${host.caps.warnings.join('; ')}. Install bubblewrap (apt-get install -y bubblewrap), or set SANDBOX=none to accept running unsandboxed.`);
    if (!host.bwrap) this.#warnUnsandboxed();
    if (this.#liveIds.has(spec.id)) throw new RangeError(`an instance with id ${spec.id} is already running`);
    this.#liveIds.add(spec.id);
    try {
      const instance = await this.#startInstance(host, binary, spec, limits);
      void instance.exited.then(() => this.#liveIds.delete(spec.id));
      return instance;
    } catch (err) {
      this.#liveIds.delete(spec.id);
      throw err;
    }
  }

  async #startInstance(host: HostSetup, binary: RuntimeBinary, spec: InstanceSpec, limits: ResolvedLimits): Promise<ProcessInstance> {
    const launcher = host.launchers?.take();
    const uid = launcher ? launcher.uid : (host.uidPool?.acquire() ?? null);
    const releaseUid = (): void => {
      if (uid !== null) host.uidPool?.release(uid);
    };
    let dirs: InstanceDirs | null = launcher?.dirs ?? null;
    let cgroup: InstanceCgroup | null = launcher?.cgroup ?? null;
    try {
      if (launcher) launcher.cgroup.update(limits);
      else {
        const name = `${process.pid}-${spec.id}`;
        dirs = createInstanceDirs(host.workDir, name, uid);
        cgroup = host.caps.cgroup.memory ? createInstanceCgroup(host.caps.cgroup, name, limits) : null;
      }
    } catch (err) {
      if (launcher) await launcher.discard();
      else {
        if (dirs) await removeInstanceDirs(dirs);
        releaseUid();
      }
      throw new SandboxStartError(`could not prepare instance ${spec.id}: ${(err as Error).message}`, { cause: err });
    }
    const plan = this.#plan(host, binary, spec, limits, dirs!, uid);
    return ProcessInstance.start({ spec, limits, plan, cgroup, dirs: dirs!, rssWatchdog: cgroup === null, releaseUid, launcher }, this.#options.startTimeoutMs ?? 10_000);
  }

  /** Launchers prepared and waiting (0 without a launcher pool). */
  async readyLaunchers(): Promise<number> {
    return (await this.#host()).launchers?.ready ?? 0;
  }

  /** Stops the idle launchers. Instances are stopped by whoever started them. */
  async close(): Promise<void> {
    const host = await this.#setup?.catch(() => null);
    await host?.launchers?.close();
  }

  #plan(host: HostSetup, binary: RuntimeBinary, spec: InstanceSpec, limits: ResolvedLimits, dirs: InstanceDirs, uid: number | null): LaunchPlan {
    // Without a pids cgroup, RLIMIT_NPROC of the instance's own uid caps its processes (it does not apply to root).
    const nproc = !host.caps.cgroup.pids && uid !== null && host.prlimit ? [host.prlimit, `--nproc=${limits.pids}`, '--'] : [];
    if (!host.bwrap) {
      const command = runtimeCommand(binary, host.files, limits, { interpreter: binary.hostPath, runtimeDir: host.files.dir, codeDir: dirs.code });
      return { command: [...nproc, ...command], env: baseEnv(host.pathOutside, dirs.tmp), cwd: dirs.code, uid, bwrap: false, seccompFilter: null };
    }
    const command = runtimeCommand(binary, host.files, limits, { interpreter: binary.insidePath, runtimeDir: SANDBOX_PATHS.runtime, codeDir: SANDBOX_PATHS.code });
    const args = buildBwrapArgs({
      features: host.bwrap.features,
      runtimeDir: host.files.dir,
      codeDir: dirs.code,
      servicesDir: dirs.services,
      extraReadOnly: host.binds,
      network: spec.network ?? false,
      tmpSizeBytes: limits.tmpSizeMb * MiB,
      env: baseEnv(host.pathInside, SANDBOX_PATHS.tmp),
      blockFd: BLOCK_FD,
      infoFd: INFO_FD,
      seccompFd: host.files.seccompFilter ? SECCOMP_FD : null,
      command,
    });
    return { command: [...nproc, host.bwrap.path, ...args], env: {}, uid, bwrap: true, seccompFilter: host.files.seccompFilter };
  }

  #warnUnsandboxed(): void {
    if (this.#warnedUnsandboxed) return;
    this.#warnedUnsandboxed = true;
    (this.#options.logger ?? console).warn(
      '!!! SANDBOX=none: bubblewrap is not usable, function code runs WITHOUT isolation (it can read host files, reach the network and signal host processes). Never run untrusted code like this. !!!',
    );
  }

  #host(): Promise<HostSetup> {
    this.#setup ??= this.#detect();
    return this.#setup;
  }

  async #detect(): Promise<HostSetup> {
    const warnings: string[] = [];
    const workDir = prepareWorkDir(workDirCandidates(this.#options.workDir), warnings);
    const uidPool = process.getuid?.() === 0 ? new UidPool() : null;

    const bwrapPath = findExecutable('bwrap', this.#options.bwrapPath);
    let bwrap: BwrapInfo | null = null;
    if (!bwrapPath) warnings.push('bubblewrap (bwrap) is not installed');
    else {
      const trialUid = uidPool?.acquire() ?? null;
      bwrap = await probeBwrap(bwrapPath, trialUid);
      if (trialUid !== null) uidPool?.release(trialUid);
      if (!bwrap.userNamespaces) warnings.push(`bubblewrap cannot create a sandbox here: ${bwrap.error}`);
    }
    const usableBwrap = bwrap?.userNamespaces ? bwrap : null;

    const cgroup: CgroupCapabilities = this.#options.cgroups === false ? noCgroups() : prepareCgroupParents(this.#options.cgroupName ?? 'skyscale');
    sweepStaleGroups(cgroup.parents);
    sweepStaleInstanceDirs(workDir, isAlive);
    if (!cgroup.memory) warnings.push('no writable memory cgroup: memory is limited by polling RSS (a fast allocation can overshoot between polls)');

    const prlimit = findExecutable('prlimit');
    const binaries: HostSetup['binaries'] = { node: await resolveNode(this.#options.nodePath ?? process.execPath) };
    const python = await resolvePython(this.#options.pythonPath ?? '/usr/bin/python3').catch(() => null);
    if (python) binaries.python = python;
    else warnings.push(`python runtime unavailable (and with it the command runtime): no working ${this.#options.pythonPath ?? '/usr/bin/python3'}`);
    const php = await resolvePhp(this.#options.phpPath ?? '/usr/bin/php').catch(() => null);
    if (php) binaries.php = php;
    else warnings.push(`php runtime unavailable: no working ${this.#options.phpPath ?? '/usr/bin/php'} (install php-cli)`);
    const copies = { uidPerInstance: uidPool !== null, sandboxed: usableBwrap !== null };
    for (const runtime of Object.keys(binaries) as InterpreterRuntime[]) binaries[runtime] = await reachableBinary(binaries[runtime]!, workDir, copies, (m) => warnings.push(m));
    const interpreters = Object.values(binaries);
    const binds = [...new Map(interpreters.flatMap((b) => b.binds).map((bind) => [bind.inside, bind])).values()];

    const problems: string[] = [];
    if (uidPool) {
      // Sandboxed processes run as their own uid: bwrap resolves bind sources, and the runtime opens files, as that uid.
      const needed = [workDir, ...Object.values(binaries).flatMap((b) => [b.hostPath, ...b.binds.map((bind) => bind.host)])];
      for (const dir of needed) {
        const blocked = unreachableAncestor(dir);
        if (blocked) problems.push(`${dir} is not reachable by sandbox uids (${blocked} is not searchable by others)`);
      }
    }
    warnings.push(...problems);
    const pidsLimit = cgroup.pids ? 'cgroup' : uidPool && prlimit ? 'rlimit-nproc' : 'pid-namespace-only';
    if (pidsLimit === 'pid-namespace-only') warnings.push('no pids cgroup and no per-instance uid: process count is not limited');
    const caps: SandboxCapabilities = {
      driver: this.name,
      isolation: usableBwrap ? 'bubblewrap' : 'none',
      usable: problems.length === 0 && (usableBwrap !== null || this.#options.allowUnsandboxed === true),
      bwrap: bwrap ? { path: bwrap.path, version: bwrap.version, userNamespaces: bwrap.userNamespaces } : null,
      uidPerInstance: uidPool !== null,
      seccomp: usableBwrap !== null && seccompProgram() !== null,
      cgroup,
      memoryLimit: cgroup.memory ? 'cgroup' : 'rss-watchdog',
      pidsLimit,
      cpuLimit: cgroup.cpu ? 'cgroup' : 'none',
      runtimes: Object.fromEntries(
        (Object.keys(STEM_RUNTIME) as SandboxRuntime[]).flatMap((runtime) => {
          const b = binaries[STEM_RUNTIME[runtime] as InterpreterRuntime];
          return b ? [[runtime, { path: b.hostPath, version: b.version }]] : [];
        }),
      ),
      warnings,
    };
    let files = prepareRuntimeFiles(workDir);
    // Bytecode names the code objects by their path inside the sandbox: unsandboxed, the source runs.
    if (binaries.python && usableBwrap) files = await withCompiledPythonBootstrap(files, binaries.python.hostPath, SANDBOX_PATHS.runtime);
    let launchers: LauncherPool | null = null;
    const launcherCount = this.#options.launchers ?? 0;
    if (launcherCount > 0 && caps.usable && usableBwrap && cgroup.memory && binaries.python) {
      let n = 0;
      launchers = new LauncherPool({ size: launcherCount, workDir, cgroup, uidPool, python: binaries.python.hostPath, seccompFilter: files.seccompFilter, name: () => `${process.pid}-launcher-${++n}` });
      launchers.fill();
    }
    return {
      workDir,
      caps,
      problems,
      bwrap: usableBwrap,
      prlimit,
      binaries,
      binds,
      pathInside: sandboxPath(interpreters, true),
      pathOutside: sandboxPath(interpreters, false),
      files,
      uidPool,
      launchers,
    };
  }
}

function noCgroups(): CgroupCapabilities {
  return { version: null, parents: {}, memory: false, pids: false, cpu: false, cpuAccounting: false, io: false, freezer: false };
}
