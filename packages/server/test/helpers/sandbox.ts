import { findExecutable } from '../../src/config/prerequisites.ts';

/** Tests that run code need bubblewrap; without it they skip loudly, never pass silently. */
export function sandboxSkipReason(): string | false {
  if (process.platform !== 'linux') return `SKIPPED: sandbox tests need Linux, this is ${process.platform}`;
  if (findExecutable('bwrap') === undefined) {
    const reason = 'SKIPPED: bubblewrap (bwrap) is not installed — install it with `apt-get install -y bubblewrap` to run sandbox tests';
    console.warn(`\n*** ${reason} ***\n`);
    return reason;
  }
  return false;
}
