import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The first executable `name` on PATH, or `explicit` when given and executable; null if there is none. No shell is spawned. */
export function findExecutable(name: string, explicit?: string): string | null {
  const candidates = explicit ? [explicit] : [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/usr/local/bin'].map((dir) => path.join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}
