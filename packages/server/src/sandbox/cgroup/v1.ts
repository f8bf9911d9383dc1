import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CgroupCapabilities } from '../driver.ts';
import type { ResolvedLimits } from '../limits.ts';
import { killMembers, readIoBytes, readKeyed, readNumber, readProcs, removeDirs, writeValue } from './cgroupfs.ts';
import type { InstanceCgroup } from './instance-cgroup.ts';

const CPU_PERIOD_US = 100_000;

/** cgroup v1: one directory per controller hierarchy (memory, pids, cpu, cpuacct, blkio). */
export function createV1Group(caps: CgroupCapabilities, groupName: string, limits: ResolvedLimits): InstanceCgroup {
  const dirs: Record<string, string> = {};
  const created: string[] = [];
  const make = (controller: string): string | null => {
    const parent = caps.parents[controller];
    if (!parent) return null;
    const dir = path.join(parent, groupName);
    // recursive: the parent may have been removed by an operator since the probe created it.
    mkdirSync(dir, { recursive: true });
    created.push(dir);
    dirs[controller] = dir;
    return dir;
  };
  let memoryBytes = 0;
  const apply = (next: ResolvedLimits): void => {
    const memory = dirs.memory!;
    const bytes = next.memoryMb * 1024 * 1024;
    // memsw = memory + swap, and must stay >= memory: equal means no swap at all. Order matters.
    const memsw = path.join(memory, 'memory.memsw.limit_in_bytes');
    const writeMemsw = (): void => {
      if (existsSync(memsw)) writeValue(memsw, bytes);
    };
    const raising = memoryBytes > 0 && bytes > memoryBytes;
    if (raising) writeMemsw();
    writeValue(path.join(memory, 'memory.limit_in_bytes'), bytes);
    if (!raising) writeMemsw();
    memoryBytes = bytes;
    if (dirs.pids) writeValue(path.join(dirs.pids, 'pids.max'), next.pids);
    if (dirs.cpu) {
      writeValue(path.join(dirs.cpu, 'cpu.cfs_period_us'), CPU_PERIOD_US);
      writeValue(path.join(dirs.cpu, 'cpu.cfs_quota_us'), next.cpuQuotaPercent === null ? -1 : Math.round((CPU_PERIOD_US * next.cpuQuotaPercent) / 100));
    }
  };
  try {
    make('memory');
    if (caps.pids) make('pids');
    if (caps.cpu) make('cpu');
    if (caps.cpuAccounting) make('cpuacct');
    if (caps.io) make('blkio');
    apply(limits);
  } catch (err) {
    void removeDirs(created.reverse());
    throw err;
  }

  const memberDir = dirs.pids ?? dirs.memory!;
  return {
    addProcess(pid) {
      for (const dir of created) writeValue(path.join(dir, 'cgroup.procs'), pid);
    },
    async addProcessAsync(pid) {
      for (const dir of created) await writeFile(path.join(dir, 'cgroup.procs'), String(pid));
    },
    pids: () => readProcs(memberDir),
    update: apply,
    usage() {
      const cpuNs = dirs.cpuacct ? readNumber(path.join(dirs.cpuacct, 'cpuacct.usage')) : Number.NaN;
      const ioBytes = dirs.blkio ? readIoBytes(path.join(dirs.blkio, 'blkio.throttle.io_service_bytes')) : Number.NaN;
      return {
        memoryBytes: readNumber(path.join(dirs.memory!, 'memory.usage_in_bytes')) || 0,
        memoryPeakBytes: readNumber(path.join(dirs.memory!, 'memory.max_usage_in_bytes')) || null,
        cpuMs: Number.isFinite(cpuNs) ? cpuNs / 1e6 : 0,
        ioBytes: Number.isFinite(ioBytes) ? ioBytes : null,
      };
    },
    oomKilled: () => readKeyed(path.join(dirs.memory!, 'memory.oom_control'), 'oom_kill') > 0,
    async destroy() {
      await killMembers(() => [...new Set(created.flatMap(readProcs))]);
      await removeDirs([...created].reverse());
    },
  };
}
