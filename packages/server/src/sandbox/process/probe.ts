import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BwrapFeatures } from './bwrap-args.ts';
import { findExecutable } from '../../core/executables.ts';

const run = promisify(execFile);

export interface BwrapInfo {
  path: string;
  version: string;
  features: BwrapFeatures;
  /** A trial sandbox (user + pid + net namespaces) actually started. */
  userNamespaces: boolean;
  /** Why the trial failed, if it did. */
  error: string | null;
}

export { findExecutable };

/**
 * Asks bubblewrap what it supports and runs a trial sandbox as `uid` (the uid instances will use),
 * because an installed bwrap is not a working one: user namespaces can be disabled by sysctl or policy.
 */
export async function probeBwrap(bwrapPath: string, uid: number | null): Promise<BwrapInfo> {
  const version = await run(bwrapPath, ['--version']).then((r) => r.stdout.trim().replace(/^bubblewrap\s*/, ''), () => 'unknown');
  const help = await run(bwrapPath, ['--help']).then((r) => r.stdout, (err: { stdout?: string }) => err.stdout ?? '');
  const features: BwrapFeatures = { tmpfsSize: help.includes('--size'), disableUserns: help.includes('--disable-userns') };
  const trial = ['--unshare-all', '--unshare-user', '--die-with-parent', '--ro-bind', '/usr', '/usr', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'];
  for (const dir of ['/bin', '/lib', '/lib64']) trial.push('--ro-bind-try', dir, dir);
  trial.push('--', '/usr/bin/true');
  try {
    await run(bwrapPath, trial, { env: {}, timeout: 5000, ...(uid === null ? {} : { uid, gid: uid }) });
    return { path: bwrapPath, version, features, userNamespaces: true, error: null };
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    return { path: bwrapPath, version, features, userNamespaces: false, error: stderr || (err as Error).message };
  }
}

/** Every ancestor must be searchable by "others": sandboxed processes run as an unrelated uid. */
export function unreachableAncestor(target: string): string | null {
  let dir = path.resolve(target);
  for (;;) {
    // A directory that does not exist yet will be created searchable; its parents still matter.
    if (exists(dir) && !othersCanSearch(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function exists(file: string): boolean {
  try {
    accessSync(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

function othersCanSearch(dir: string): boolean {
  try {
    return (statSync(dir).mode & 0o001) !== 0;
  } catch {
    return false;
  }
}
