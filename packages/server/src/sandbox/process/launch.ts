import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { InstanceCgroup } from '../cgroup/instance-cgroup.ts';

/** bwrap's --block-fd / --info-fd, right after the two protocol fds (3 and 4). */
export const BLOCK_FD = 5;
export const INFO_FD = 6;
/** bwrap's --seccomp: the compiled filter, read once by bwrap. */
export const SECCOMP_FD = 7;

export interface LaunchPlan {
  command: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Host uid (and gid) to run as; null = the platform's own. */
  uid: number | null;
  /** The command is bwrap, holding the sandbox at --block-fd until the host has admitted it. */
  bwrap: boolean;
  /** File with the seccomp filter to hand bwrap on SECCOMP_FD (bwrap only). */
  seccompFilter: string | null;
}

/** stdio: 0 = /dev/null, 1/2 = raw output, 3 = host→runtime, 4 = runtime→host (+5/6 for bwrap). */
export function spawnRuntime(plan: LaunchPlan): ChildProcess {
  const [file, ...args] = plan.command;
  const filter = plan.bwrap && plan.seccompFilter ? openSync(plan.seccompFilter, 'r') : null;
  try {
    return spawnWith(file!, args, plan, filter);
  } finally {
    if (filter !== null) closeSync(filter);
  }
}

function spawnWith(file: string, args: string[], plan: LaunchPlan, filter: number | null): ChildProcess {
  const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'];
  if (plan.bwrap) stdio.push('pipe', 'pipe');
  if (filter !== null) stdio.push(filter);
  return spawn(file, args, {
    stdio,
    env: plan.env,
    cwd: plan.cwd,
    // Own process group: a terminal's Ctrl-C for the platform does not hit instances, and without
    // bwrap the whole group can be killed at once.
    detached: true,
    ...(plan.uid === null ? {} : { uid: plan.uid, gid: plan.uid }),
  });
}

/**
 * Moves the instance into its cgroup before any function code can run. Without bwrap the runtime
 * only runs trusted bootstrap code until `load`, so placing it right after spawn is enough. With bwrap,
 * the namespace's init process may already be forked by the time we write bwrap's own pid, so we
 * also place the init (reported on --info-fd) and only then release --block-fd: the runtime is forked
 * by that init afterwards and inherits the group. A process from a LauncherPool is in its group
 * already (`preAdmitted`): so is the init it forks. Returns the init's host pid (null without bwrap).
 */
export async function admit(child: ChildProcess, plan: LaunchPlan, cgroup: InstanceCgroup | null, shouldStart: () => boolean, preAdmitted = false): Promise<number | null> {
  if (cgroup && child.pid !== undefined && !preAdmitted) cgroup.addProcess(child.pid);
  if (!plan.bwrap) return null;
  const stdio = child.stdio as unknown as Array<Readable | Writable | null>;
  const info = await readAll(stdio[INFO_FD] as Readable);
  let initPid: number;
  try {
    initPid = Number((JSON.parse(info) as Record<string, unknown>)['child-pid']);
  } catch {
    throw new Error('bubblewrap exited before setting up the sandbox');
  }
  if (!Number.isInteger(initPid) || initPid <= 0) throw new Error('bubblewrap reported no sandbox pid');
  if (cgroup && !preAdmitted) cgroup.addProcess(initPid);
  if (shouldStart()) (stdio[BLOCK_FD] as Writable).end('1');
  return initPid;
}

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.on('end', () => resolve(text));
    stream.on('error', () => resolve(text));
  });
}
