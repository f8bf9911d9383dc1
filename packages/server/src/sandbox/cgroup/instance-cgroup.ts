import type { CgroupCapabilities } from '../driver.ts';
import type { ResolvedLimits } from '../limits.ts';
import { createV1Group } from './v1.ts';
import { createV2Group } from './v2.ts';

export interface CgroupUsage {
  memoryBytes: number;
  memoryPeakBytes: number | null;
  cpuMs: number;
  /** Block-device bytes read + written, null without io accounting. */
  ioBytes: number | null;
}

/** One instance's group(s). All operations are a handful of cgroupfs reads/writes. */
export interface InstanceCgroup {
  /** Moves a process (and its future children) into the group. */
  addProcess(pid: number): void;
  /** addProcess off the event loop: on cgroup v1 a move can wait for an RCU grace period (milliseconds). */
  addProcessAsync(pid: number): Promise<void>;
  pids(): number[];
  usage(): CgroupUsage;
  /** Applies new limits to a live group (narrowing a stem cell at load). */
  update(limits: ResolvedLimits): void;
  /** Whether the kernel OOM killer has fired in this group. */
  oomKilled(): boolean;
  /** SIGKILLs every member until none is left (or gives up after ~1 s), then removes the group. */
  destroy(): Promise<void>;
}

/** Returns null when the host has no usable memory cgroup (the caller falls back to the RSS watchdog). */
export function createInstanceCgroup(caps: CgroupCapabilities, groupName: string, limits: ResolvedLimits): InstanceCgroup | null {
  if (caps.version === 1 && caps.memory) return createV1Group(caps, groupName, limits);
  if (caps.version === 2 && caps.memory) return createV2Group(caps, groupName, limits);
  return null;
}
