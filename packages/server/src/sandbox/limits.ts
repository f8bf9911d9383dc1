import { memoryFloorProblem } from '../core/memory-floors.ts';
import type { ResourceLimits, SandboxRuntime } from './driver.ts';

export type ResolvedLimits = Required<Omit<ResourceLimits, 'cpuQuotaPercent'>> & { cpuQuotaPercent: number | null };

export const DEFAULT_LIMITS = {
  pids: 64,
  tmpSizeMb: 64,
  outputBytes: 6 * 1024 * 1024,
  logBytes: 256 * 1024,
} as const;

/**
 * The CPU quota (percent of one core) a runtime boots under, before its function's quota is set at load.
 * The boot runs the platform's bootstrap, not function code, and under a small function's quota every cold
 * start would be several times slower (node: ~5× at 10 %, bench/RESULTS.md).
 */
export const BOOT_CPU_QUOTA_PERCENT = 100;

/** Below this a Node runtime cannot even start (measured: pids.max=4 hangs it, 8 is enough). */
const MIN_PIDS = 12;

/** `runtime`: what the instance runs, whose memory floor applies (core/memory-floors.ts); null before it is known. */
export function resolveLimits(limits: ResourceLimits, runtime: SandboxRuntime | null): ResolvedLimits {
  const memoryMb = positiveInt(limits.memoryMb, 'memoryMb');
  const belowFloor = runtime === null ? null : memoryFloorProblem(runtime, memoryMb);
  if (belowFloor !== null) throw new RangeError(belowFloor);
  const pids = positiveInt(limits.pids ?? DEFAULT_LIMITS.pids, 'pids');
  if (pids < MIN_PIDS) throw new RangeError(`pids must be at least ${MIN_PIDS}: a Node runtime alone uses ~10`);
  const logBytes = positiveInt(limits.logBytes ?? DEFAULT_LIMITS.logBytes, 'logBytes');
  const outputBytes = positiveInt(limits.outputBytes ?? DEFAULT_LIMITS.outputBytes, 'outputBytes');
  return {
    memoryMb,
    pids,
    cpuQuotaPercent: limits.cpuQuotaPercent === undefined ? null : positiveInt(limits.cpuQuotaPercent, 'cpuQuotaPercent'),
    tmpSizeMb: positiveInt(limits.tmpSizeMb ?? DEFAULT_LIMITS.tmpSizeMb, 'tmpSizeMb'),
    outputBytes,
    logBytes: Math.min(logBytes, outputBytes),
  };
}

/**
 * V8's old-space cap, kept under the cgroup limit so that a heap-heavy function usually dies with
 * V8's own "heap out of memory" (reported as oom) while native memory is still left for the runtime.
 */
export function nodeHeapMb(memoryMb: number): number {
  return Math.max(16, Math.floor(memoryMb * 0.75));
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Limits for a specialised instance: the function's, which may only be narrower than the instance's,
 * except the CPU quota, which is simply set (a stem cell boots under BOOT_CPU_QUOTA_PERCENT, whatever the
 * function it becomes); left out, the instance's stays.
 */
export function narrowLimits(current: ResolvedLimits, requested: Omit<ResourceLimits, 'tmpSizeMb'>, runtime: SandboxRuntime): ResolvedLimits {
  const next = resolveLimits({ ...requested, tmpSizeMb: current.tmpSizeMb, cpuQuotaPercent: requested.cpuQuotaPercent ?? current.cpuQuotaPercent ?? undefined }, runtime);
  for (const key of ['memoryMb', 'pids', 'outputBytes', 'logBytes'] as const) {
    if (next[key] > current[key]) throw new RangeError(`${key} ${next[key]} exceeds the instance's ${current[key]}: start the instance with the larger limit`);
  }
  return next;
}
