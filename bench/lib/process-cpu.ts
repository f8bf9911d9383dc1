// CPU time by process from /proc, for "where does the CPU of a request go" in benchmarks: a server,
// the processes it spawned (sandboxed function instances) and the load generator (a waited-for child).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const ticksToUs = (ticks: number) => (ticks * 1e6) / TICKS_PER_S;

/** The fields of /proc/<pid>/stat after the command name (index 0 is the state). */
function statFields(file: string): string[] | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU a process has used so far, in µs; 0 when it is gone. */
export function cpuUs(pid: number): number {
  const f = statFields(`/proc/${pid}/stat`);
  return f === undefined ? 0 : ticksToUs(Number(f[11]) + Number(f[12]));
}

/** CPU (µs) of this process's children that have exited and been waited for, e.g. a wrk run by spawnSync. */
export function reapedChildrenCpuUs(): number {
  const f = statFields('/proc/self/stat')!;
  return ticksToUs(Number(f[13]) + Number(f[14]));
}

/** Every process below `pid` (children, grandchildren, ...): for a platform, its sandboxed instances. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const f = statFields(`/proc/${entry}/stat`);
    if (f === undefined) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [Number(entry)]);
    else list.push(Number(entry));
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Busy and total CPU time of the whole machine so far (µs, all cores), from /proc/stat. */
export function machineCpuUs(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: ticksToUs(total - cpu[3] - cpu[4]), total: ticksToUs(total) };
}

export interface CpuSplit {
  /** The server process itself. */
  server: number;
  /** Processes the server spawned (sandboxed instances). */
  spawned: number;
  /** The load generator. */
  client: number;
  /** Everything the machine did, including other tenants of a shared host. */
  machine: number;
}

/** Measures the CPU `run` causes, split as CpuSplit (µs); processes that start and exit within it are missed. */
export function measureCpu<T>(serverPid: number, run: () => T): { result: T; cpu: CpuSplit; machineBusy: number } {
  const tree = (pids: number[]) => new Map(pids.map((p) => [p, cpuUs(p)]));
  const before = tree(descendants(serverPid));
  const server0 = cpuUs(serverPid);
  const client0 = reapedChildrenCpuUs();
  const machine0 = machineCpuUs();
  const result = run();
  const machine1 = machineCpuUs();
  const client = reapedChildrenCpuUs() - client0;
  const server = cpuUs(serverPid) - server0;
  let spawned = 0;
  for (const pid of descendants(serverPid)) spawned += cpuUs(pid) - (before.get(pid) ?? 0);
  const busy = machine1.busy - machine0.busy;
  return { result, cpu: { server, spawned, client, machine: busy }, machineBusy: busy / Math.max(1, machine1.total - machine0.total) };
}
