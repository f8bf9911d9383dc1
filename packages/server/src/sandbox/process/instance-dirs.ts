import { chownSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

export interface InstanceDirs {
  root: string;
  /** Appears read-only at /code; filled at load time. */
  code: string;
  /** Writable scratch space, used only when running without bwrap (bwrap gives a private tmpfs). */
  tmp: string;
  /** Host-made Unix sockets (the host API); appears read-only at /run/skyscale. */
  services: string;
}

/**
 * Per-instance host directories. When instances run as their own uid, the code directory belongs to
 * that uid with mode 0500: the sandbox can traverse it (bwrap resolves the bind source as that uid)
 * and nobody else on the host but root can.
 */
export function createInstanceDirs(workDir: string, name: string, uid: number | null): InstanceDirs {
  const root = path.join(workDir, 'instances', name);
  mkdirSync(path.join(workDir, 'instances'), { recursive: true, mode: 0o711 });
  mkdirSync(root, { mode: 0o711 });
  const dirs = { root, code: path.join(root, 'code'), tmp: path.join(root, 'tmp'), services: path.join(root, 'services') };
  mkdirSync(dirs.code, { mode: uid === null ? 0o700 : 0o500 });
  mkdirSync(dirs.tmp, { mode: 0o700 });
  mkdirSync(dirs.services, { mode: 0o711 });
  if (uid !== null) {
    chownSync(dirs.code, uid, uid);
    chownSync(dirs.tmp, uid, uid);
  }
  return dirs;
}

export async function removeInstanceDirs(dirs: InstanceDirs): Promise<void> {
  await rm(dirs.root, { recursive: true, force: true, maxRetries: 3 });
}

/** Removes the directories of instances whose platform process died without cleaning up (`<pid>-<id>`). */
export function sweepStaleInstanceDirs(workDir: string, isAlive: (pid: number) => boolean): void {
  const parent = path.join(workDir, 'instances');
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const owner = Number(/^(\d+)-/.exec(entry)?.[1]);
    if (owner && !isAlive(owner)) rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
}
