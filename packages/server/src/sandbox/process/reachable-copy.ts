import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, chmod, copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { unreachableAncestor } from './probe.ts';
import type { RuntimeBinary } from './runtime-binaries.ts';

/**
 * An interpreter's binds as the sandbox gets them, from a copy under the work dir where needed:
 * - as root, sandboxed processes run as their own host uid, and that uid must reach every bind source
 *   (bwrap resolves them as that uid; bwrap 0.8 resolves `--ro-bind-fd` sources by path too) and,
 *   without bwrap, the interpreter itself: one installed under a directory others cannot search — a
 *   clone in a 0700 `mktemp -d`, a 0750 home — is copied;
 * - with bwrap, a directory bound at another path inside (Node's, at /opt/skyscale/node) is copied too:
 *   a bind's host path shows in the sandbox's /proc/self/mountinfo, and the work dir's names nothing
 *   of where the platform is installed. One bound at its own path (a Python prefix) is seen there anyway.
 * Only the host side changes: inside the sandbox everything appears where it did.
 */
export async function reachableBinary(binary: RuntimeBinary, workDir: string, host: { uidPerInstance: boolean; sandboxed: boolean }, warn: (message: string) => void): Promise<RuntimeBinary> {
  let hostPath = binary.hostPath;
  const binds: RuntimeBinary['binds'] = [];
  for (const bind of binary.binds) {
    const unreachable = host.uidPerInstance && unreachableAncestor(bind.host) !== null;
    const revealing = host.sandboxed && bind.inside !== bind.host;
    if (!unreachable && !revealing) {
      binds.push(bind);
      continue;
    }
    try {
      const copy = await reachableCopy(bind.host, path.join(workDir, 'interpreters'), `${binary.runtime}-${binary.version}`);
      if (hostPath.startsWith(`${bind.host}/`)) hostPath = path.join(copy, path.relative(bind.host, hostPath));
      binds.push({ host: copy, inside: bind.inside });
    } catch (err) {
      warn(`could not copy ${bind.host} into the work dir for sandbox uids: ${(err as Error).message}`);
      binds.push(bind);
    }
  }
  return { ...binary, hostPath, binds };
}

/**
 * A copy of `source` (a file or a directory tree) at `<parentDir>/<label>-<fingerprint>/<basename>`,
 * made once: the fingerprint covers the source's path and the identity of its top-level entries, so a
 * reinstall (new inodes) gets a new copy and an unchanged install reuses the one there. Files are
 * hardlinked where the file system allows and sandbox uids may read (and run) them through the link;
 * other files are copied (a shared inode is never writable by group or others).
 */
export async function reachableCopy(source: string, parentDir: string, label: string): Promise<string> {
  const dir = path.join(parentDir, `${label}-${await fingerprint(source, label)}`);
  const copy = path.join(dir, path.basename(source));
  if (await exists(copy)) return copy;
  await mkdir(parentDir, { recursive: true, mode: 0o711 });
  const staging = `${dir}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o755 });
  await chmod(staging, 0o755);
  try {
    await copyEntry(source, path.join(staging, path.basename(source)));
    await rename(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Another platform process sharing the work dir made the same copy first.
    if (!(await exists(copy))) throw err;
  }
  return copy;
}

async function fingerprint(source: string, label: string): Promise<string> {
  const hash = createHash('sha256').update(`${path.resolve(source)}\0${label}\0`);
  const info = await lstat(source);
  hash.update(identity(info));
  if (info.isDirectory()) {
    for (const name of (await readdir(source)).sort()) hash.update(`${name}\0${identity(await lstat(path.join(source, name)))}`);
  }
  return hash.digest('hex').slice(0, 16);
}

const identity = (info: Stats): string => `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}\0`;

async function copyEntry(from: string, to: string): Promise<void> {
  const info = await lstat(from);
  if (info.isSymbolicLink()) await symlink(await readlink(from), to);
  else if (info.isDirectory()) {
    await mkdir(to, { mode: 0o755 });
    await chmod(to, 0o755);
    await Promise.all((await readdir(from)).map((name) => copyEntry(path.join(from, name), path.join(to, name))));
  } else if (info.isFile()) await linkOrCopy(from, to, info.mode);
  // sockets, fifos and devices are not part of an interpreter: skipped
}

async function linkOrCopy(from: string, to: string, mode: number): Promise<void> {
  if (canShareInode(mode)) {
    try {
      await link(from, to);
      return;
    } catch {
      // another file system (EXDEV) or linking not permitted: copy
    }
  }
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  await chmod(to, (mode & 0o111) !== 0 ? 0o755 : 0o644);
}

/** Readable (and, if it is a program, runnable) by others, and writable by nobody but its owner. */
function canShareInode(mode: number): boolean {
  const runnable = (mode & 0o111) === 0 || (mode & 0o001) !== 0;
  return (mode & 0o004) !== 0 && runnable && (mode & 0o022) === 0;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
