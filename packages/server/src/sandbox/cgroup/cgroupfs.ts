import { readFileSync, writeFileSync, rmdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Small cgroupfs helpers shared by the v1 and v2 groups. Sync on purpose: each call is a few µs. */

export function readProcs(dir: string): number[] {
  try {
    return readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function writeValue(file: string, value: string | number): void {
  writeFileSync(file, String(value));
}

export function readNumber(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return Number.NaN;
  }
}

/** `key value` lines (memory.oom_control, memory.events, cpu.stat) → number for `key`. */
export function readKeyed(file: string, key: string): number {
  try {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${key} `));
    return line ? Number(line.slice(key.length + 1)) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * Bytes read + written over all devices: v1 `blkio.throttle.io_service_bytes` (`8:0 Read 4096` lines)
 * or v2 `io.stat` (`8:0 rbytes=4096 wbytes=0 …`). NaN when the file cannot be read.
 */
export function readIoBytes(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return Number.NaN;
  }
  let total = 0;
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    if (fields.length === 3 && (fields[1] === 'Read' || fields[1] === 'Write')) total += Number(fields[2]) || 0;
    for (const field of fields) {
      if (field.startsWith('rbytes=') || field.startsWith('wbytes=')) total += Number(field.slice(7)) || 0;
    }
  }
  return total;
}

/** Kill-until-empty loop shared by both versions: a fork bomb can add members while we kill. */
export async function killMembers(listPids: () => number[], killWholeGroup?: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const pids = listPids();
    if (pids.length === 0) return;
    if (!killWholeGroup?.()) {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await sleep(attempt < 10 ? 2 : 10);
  }
}

/** rmdir fails with EBUSY until the killed members have been reaped. */
export async function removeDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || attempt >= 50) break;
        await sleep(10);
      }
    }
  }
}
