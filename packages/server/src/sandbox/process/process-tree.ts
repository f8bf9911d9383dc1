import { readFileSync, readdirSync } from 'node:fs';

/**
 * /proc walks for hosts without cgroups: the instance's processes are the outer process and its
 * descendants (a pid namespace cannot be left, so nothing escapes the tree except by dying).
 */
export function descendantsOf(rootPid: number): number[] {
  const found: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0 && found.length < 10_000) {
    const pid = queue.shift()!;
    if (!alive(pid)) continue;
    found.push(pid);
    queue.push(...childrenOf(pid));
  }
  return found;
}

function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        if (child.trim()) children.push(Number(child));
      }
    } catch {
      // thread exited meanwhile
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Memory a process accounts for: its proportional set size (shared pages divided among the processes
 * sharing them), so that forked children are not each charged for their parent's pages. Falls back
 * to RSS where smaps_rollup is missing. 0 if the process is gone.
 */
export function memoryBytes(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // no smaps_rollup (old kernel) or the process is gone
  }
  return rssBytes(pid);
}

/** Resident set size in bytes (VmRSS), 0 if the process is gone. */
function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak RSS (VmHWM) in bytes, 0 if the process is gone. */
export function peakRssBytes(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of one process in ms (USER_HZ is 100 on every Linux ABI). */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * Storage bytes a process (with its reaped children) caused to be read + written: `read_bytes` +
 * `write_bytes` of /proc/<pid>/io, the same thing cgroup blkio counts. NaN if unreadable.
 */
export function ioBytesOf(pid: number | 'self'): number {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const read = /^read_bytes:\s+(\d+)/m.exec(text);
    const write = /^write_bytes:\s+(\d+)/m.exec(text);
    return read && write ? Number(read[1]) + Number(write[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Sums over the instance's processes (peak = sum of each one's peak, an upper bound). */
export function treeUsage(pids: number[]): { memoryBytes: number; memoryPeakBytes: number; cpuMs: number; ioBytes: number | null; processes: number } {
  const sum = (read: (pid: number) => number): number => pids.reduce((total, pid) => total + read(pid), 0);
  const io = sum(ioBytesOf);
  return { memoryBytes: sum(memoryBytes), memoryPeakBytes: sum(peakRssBytes), cpuMs: sum(cpuMsOf), ioBytes: Number.isFinite(io) ? io : null, processes: pids.length };
}
