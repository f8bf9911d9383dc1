import type { SandboxCapabilities } from '../sandbox/driver.ts';
import { findExecutable as findOnPath } from '../core/executables.ts';

export interface Prerequisite {
  name: string;
  found: string | undefined;
  install: string;
  neededFor: string;
}

export const INSTALL_BUBBLEWRAP = 'apt-get install -y bubblewrap';

/** Finds an executable on PATH (or at an absolute path) without spawning a shell. */
export function findExecutable(name: string): string | undefined {
  return findOnPath(name, name.includes('/') ? name : undefined) ?? undefined;
}

/** The system packages the platform needs, each with the command that installs it on Debian/Ubuntu. */
export function checkPrerequisites(paths: { bwrapPath?: string } = {}): Prerequisite[] {
  return [
    { name: 'bubblewrap', found: findExecutable(paths.bwrapPath ?? 'bwrap'), install: INSTALL_BUBBLEWRAP, neededFor: 'sandboxing function code' },
    { name: 'python3', found: findExecutable('/usr/bin/python3') ?? findExecutable('python3'), install: 'apt-get install -y python3', neededFor: 'the python runtime' },
  ];
}

export function describeMissing(prereqs: Prerequisite[]): string[] {
  const lines: string[] = [];
  if (process.platform !== 'linux') lines.push(`Skyscale runs functions with Linux namespaces; this is ${process.platform}. Use a Linux host or VM.`);
  for (const p of prereqs) if (p.found === undefined) lines.push(`${p.name} is missing (needed for ${p.neededFor}). Install it with: ${p.install}`);
  return lines;
}

/**
 * What the operator must hear at start about the sandbox, or null when functions run sandboxed.
 * "Without isolation" is said only when SANDBOX=none was set and is in effect; otherwise an unusable
 * sandbox means functions cannot run, and the line says what to do.
 */
export function sandboxNotice(caps: SandboxCapabilities, sandboxNoneSet: boolean): { level: 'warn' | 'error'; message: string } | null {
  if (caps.usable && caps.isolation === 'none') {
    return { level: 'warn', message: `SANDBOX=none: ${noBwrapReason(caps)}, so function code runs WITHOUT isolation (it can read host files, reach the network and signal host processes). Never do this with untrusted code; install bubblewrap (${INSTALL_BUBBLEWRAP}) and unset SANDBOX.` };
  }
  if (caps.usable) return null;
  if (caps.isolation === 'none' && !sandboxNoneSet) {
    const fix = caps.bwrap === null ? `Install it with \`${INSTALL_BUBBLEWRAP}\`` : 'bubblewrap needs unprivileged user namespaces: allow them (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, AppArmor)';
    return { level: 'error', message: `functions cannot run: ${noBwrapReason(caps)}. ${fix} and restart (or set SANDBOX=none to run function code without isolation).` };
  }
  // The other reason start() refuses: a path sandbox uids cannot reach (the work dir).
  const unreachable = caps.warnings.filter((w) => w.includes('not reachable by sandbox uids'));
  return { level: 'error', message: `functions cannot run: ${(unreachable.length > 0 ? unreachable : caps.warnings).join('; ')}` };
}

function noBwrapReason(caps: SandboxCapabilities): string {
  return caps.warnings.find((w) => w.startsWith('bubblewrap')) ?? 'bubblewrap is not usable';
}
