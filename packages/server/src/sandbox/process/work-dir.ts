import { chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the work dir may go, best first. Sandboxes see its path in /proc/self/mountinfo, so the default
 * names nothing of the host; only root may create it, and where even root cannot (a read-only /var)
 * the temporary directory's is next. Any other uid has only its temporary directory to count on.
 */
export function workDirCandidates(given: string | undefined): string[] {
  if (given !== undefined) return [path.resolve(given)];
  const uid = process.getuid?.() ?? 0;
  const tmp = path.join(os.tmpdir(), `skyscale-sandboxes-${uid}`);
  return uid === 0 ? ['/var/lib/skyscale-sandboxes', tmp] : [tmp];
}

/** Creates the first candidate that can be (0711: sandbox uids traverse it); a fallback is a warning. */
export function prepareWorkDir(candidates: string[], warnings: string[]): string {
  let failure: unknown;
  for (const [i, dir] of candidates.entries()) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      chmodSync(dir, 0o711);
      if (i > 0) warnings.push(`${candidates[0]} cannot be created (${(failure as Error).message}), so sandboxes use ${dir} and see that path in their mount table (set SANDBOX_DIR)`);
      return dir;
    } catch (err) {
      failure ??= err;
    }
  }
  throw failure;
}
