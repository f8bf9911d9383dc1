import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CgroupCapabilities } from '../driver.ts';

/** The controllers the process driver uses, by their v1 names. */
export const V1_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer', 'blkio'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface CgroupMounts {
  /** v1 hierarchy mount point per controller, e.g. memory → /sys/fs/cgroup/memory. */
  v1: Partial<Record<V1Controller, string>>;
  /** cgroup2 mount point (pure v2: /sys/fs/cgroup; hybrid: /sys/fs/cgroup/unified). */
  v2: string | null;
}

/** Finds the cgroup mounts from /proc/self/mountinfo (the source of truth, whatever the distro layout). */
export function findCgroupMounts(mountinfo = readText('/proc/self/mountinfo')): CgroupMounts {
  const mounts: CgroupMounts = { v1: {}, v2: null };
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4];
    const [fsType, , superOptions = ''] = right.split(' ');
    if (!mountPoint) continue;
    if (fsType === 'cgroup2') mounts.v2 ??= mountPoint;
    if (fsType !== 'cgroup') continue;
    for (const option of superOptions.split(',')) {
      if ((V1_CONTROLLERS as readonly string[]).includes(option)) mounts.v1[option as V1Controller] ??= mountPoint;
    }
  }
  return mounts;
}

/**
 * Creates the platform's parent groups (`<mount>/<name>`) and reports which controllers really work,
 * by creating and removing a probe group in each: a readable cgroupfs is not a writable one.
 */
export function prepareCgroupParents(name: string, mounts = findCgroupMounts()): CgroupCapabilities {
  const none: CgroupCapabilities = { version: null, parents: {}, memory: false, pids: false, cpu: false, cpuAccounting: false, io: false, freezer: false };
  if (mounts.v1.memory) return prepareV1(name, mounts.v1, none);
  if (mounts.v2) return prepareV2(name, mounts.v2, none);
  return none;
}

function prepareV1(name: string, v1: CgroupMounts['v1'], none: CgroupCapabilities): CgroupCapabilities {
  const parents: Record<string, string> = {};
  for (const controller of V1_CONTROLLERS) {
    const mount = v1[controller];
    if (!mount) continue;
    const parent = path.join(mount, name);
    if (canCreateChild(parent)) parents[controller] = parent;
  }
  if (!parents.memory) return none;
  return {
    version: 1,
    parents,
    memory: existsSync(path.join(parents.memory, 'memory.limit_in_bytes')),
    pids: Boolean(parents.pids),
    cpu: Boolean(parents.cpu) && existsSync(path.join(parents.cpu, 'cpu.cfs_quota_us')),
    cpuAccounting: Boolean(parents.cpuacct),
    io: Boolean(parents.blkio) && existsSync(path.join(parents.blkio, 'blkio.throttle.io_service_bytes')),
    freezer: Boolean(parents.freezer),
  };
}

/**
 * v2 needs the controllers enabled in every ancestor's subtree_control. We only enable them where
 * that is allowed without moving processes (the root, and our own empty parent); a platform running
 * inside a non-root v2 cgroup must be given a delegated subtree by the operator.
 */
function prepareV2(name: string, mount: string, none: CgroupCapabilities): CgroupCapabilities {
  const parent = path.join(mount, name);
  const wanted = ['memory', 'pids', 'cpu'];
  tryWrite(path.join(mount, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
  if (!canCreateChild(parent)) return none;
  tryWrite(path.join(parent, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
  // io is optional (accounting only): enabled on its own, since one unavailable controller fails the whole write.
  tryWrite(path.join(mount, 'cgroup.subtree_control'), '+io');
  tryWrite(path.join(parent, 'cgroup.subtree_control'), '+io');
  const enabled = new Set(readText(path.join(parent, 'cgroup.subtree_control')).split(/\s+/));
  if (!enabled.has('memory')) return none;
  return {
    version: 2,
    parents: { unified: parent },
    memory: true,
    pids: enabled.has('pids'),
    cpu: enabled.has('cpu'),
    cpuAccounting: true,
    io: enabled.has('io'),
    freezer: existsSync(path.join(parent, 'cgroup.freeze')),
  };
}

function canCreateChild(parent: string): boolean {
  const probe = path.join(parent, `probe-${process.pid}`);
  try {
    mkdirSync(parent, { recursive: true });
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes groups left by platform processes that died without cleaning up (their name starts with
 * the dead process's pid). Groups of live processes are never touched.
 */
export function sweepStaleGroups(parents: Record<string, string>): void {
  for (const parent of Object.values(parents)) {
    let entries: string[];
    try {
      entries = readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const owner = Number(/^(\d+)-/.exec(entry)?.[1]);
      if (!owner || isAlive(owner)) continue;
      try {
        rmdirSync(path.join(parent, entry));
      } catch {
        // still has processes (or not ours to remove): leave it
      }
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // reported through what ends up enabled
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
