import { constants as osConstants } from 'node:os';
import type { ExitStatus } from './pending-call.ts';

/** bwrap exits with 128+n when the sandboxed command died of signal n. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null, viaBwrap: boolean): ExitStatus {
  if (viaBwrap && code !== null && code > 128) {
    const name = Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return { exitCode: null, signal: name };
  }
  return { exitCode: code, signal };
}

export function describeExit(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `exit code ${status.exitCode}`;
}

export function killGroup(pid: number): void {
  sigkill(-pid);
}

export function sigkill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
