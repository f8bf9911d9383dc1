import { constants } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Puts a function's files into an instance's /code directory. bwrap's mounts are fixed when the
 * instance starts, so a pre-started stem cell gets its code by filling the directory that is
 * already bound read-only at /code. Hardlinks make this O(files) instead of O(bytes); a file the
 * sandbox uid could not read through a hardlink (not world-readable) is copied instead.
 * Symlinks are recreated as they are: they resolve inside the sandbox, where the host is not visible.
 */
export async function stageCode(sourceDir: string, targetDir: string): Promise<void> {
  const info = await lstat(sourceDir);
  if (!info.isDirectory()) throw new Error(`code directory ${sourceDir} is not a directory`);
  await copyTree(sourceDir, targetDir);
}

async function copyTree(source: string, target: string): Promise<void> {
  const entries = await readdir(source, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = path.join(source, entry.name);
      const to = path.join(target, entry.name);
      if (entry.isDirectory()) {
        await mkdir(to, { mode: 0o755 });
        await chmod(to, 0o755);
        await copyTree(from, to);
      } else if (entry.isSymbolicLink()) {
        await symlink(await readlink(from), to);
      } else if (entry.isFile()) {
        await linkOrCopy(from, to);
      }
      // sockets, fifos and devices are not code: skipped
    }),
  );
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  const { mode } = await lstat(from);
  if ((mode & 0o004) !== 0) {
    try {
      await link(from, to);
      return;
    } catch {
      // other filesystem (EXDEV) or linking not permitted: copy
    }
  }
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  await chmod(to, (mode & 0o111) !== 0 ? 0o755 : 0o644);
}
