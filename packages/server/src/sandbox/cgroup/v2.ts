import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CgroupCapabilities } from '../driver.ts';
import type { ResolvedLimits } from '../limits.ts';
import { killMembers, readIoBytes, readKeyed, readNumber, readProcs, removeDirs, writeValue } from './cgroupfs.ts';
import type { InstanceCgroup } from './instance-cgroup.ts';

const CPU_PERIOD_US = 100_000;

/** cgroup v2: a single directory in the unified hierarchy. Not exercised on the v1 dev machines. */
export function createV2Group(caps: CgroupCapabilities, groupName: string, limits: ResolvedLimits): InstanceCgroup {
  const dir = path.join(caps.parents.unified!, groupName);
  const apply = (next: ResolvedLimits): void => {
    writeValue(path.join(dir, 'memory.max'), next.memoryMb * 1024 * 1024);
    if (existsSync(path.join(dir, 'memory.swap.max'))) writeValue(path.join(dir, 'memory.swap.max'), 0);
    if (caps.pids) writeValue(path.join(dir, 'pids.max'), next.pids);
    if (caps.cpu) {
      const quota = next.cpuQuotaPercent === null ? 'max' : String(Math.round((CPU_PERIOD_US * next.cpuQuotaPercent) / 100));
      writeValue(path.join(dir, 'cpu.max'), `${quota} ${CPU_PERIOD_US}`);
    }
  };
  mkdirSync(dir, { recursive: true });
  try {
    apply(limits);
  } catch (err) {
    void removeDirs([dir]);
    throw err;
  }

  const killFile = path.join(dir, 'cgroup.kill');
  const killWholeGroup = (): boolean => {
    if (!existsSync(killFile)) return false;
    writeValue(killFile, 1);
    return true;
  };
  return {
    addProcess: (pid) => writeValue(path.join(dir, 'cgroup.procs'), pid),
    addProcessAsync: (pid) => writeFile(path.join(dir, 'cgroup.procs'), String(pid)),
    pids: () => readProcs(dir),
    update: apply,
    usage() {
      const peak = readNumber(path.join(dir, 'memory.peak'));
      const ioBytes = caps.io ? readIoBytes(path.join(dir, 'io.stat')) : Number.NaN;
      return {
        memoryBytes: readNumber(path.join(dir, 'memory.current')) || 0,
        memoryPeakBytes: Number.isFinite(peak) ? peak : null,
        cpuMs: (readKeyed(path.join(dir, 'cpu.stat'), 'usage_usec') || 0) / 1000,
        ioBytes: Number.isFinite(ioBytes) ? ioBytes : null,
      };
    },
    oomKilled: () => readKeyed(path.join(dir, 'memory.events'), 'oom_kill') > 0,
    async destroy() {
      await killMembers(() => readProcs(dir), killWholeGroup);
      await removeDirs([dir]);
    },
  };
}
