import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  readonly holderPid: number | null;
  constructor(dir: string, holderPid: number | null) {
    const who = holderPid === null ? 'another Skyscale process' : `the Skyscale process with pid ${holderPid}`;
    super(`DATA_DIR ${dir} is in use by ${who}. Stop it first, or start this one with another DATA_DIR.`);
    this.name = 'DataDirLockedError';
    this.holderPid = holderPid;
  }
}

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the embedded mode's exclusive hold on a data directory, for as long as this process runs. The
 * lock is an exclusive SQLite lock (a POSIX record lock on `skyscale.lock`): the kernel drops it when
 * the process dies however it dies, so there is never a stale lock to clean up. The holder's pid is
 * written beside it for the message a second process gets.
 */
export function lockDataDir(dir: string): DataDirLock {
  const lockFile = path.join(dir, 'skyscale.lock');
  const pidFile = path.join(dir, 'skyscale.pid');
  const db = new DatabaseSync(lockFile, { timeout: 0 });
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER)');
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if (!/locked|busy/i.test(String((err as Error).message))) throw err;
    throw new DataDirLockedError(dir, readPid(pidFile));
  }
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o644 });
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      if (readPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
