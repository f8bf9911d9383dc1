import { findExecutable } from '../../src/config/prerequisites.ts';

/**
 * The host binaries this test run uses. BWRAP_PATH and PHP_PATH (the platform's own settings) point
 * them elsewhere, e.g. at /nonexistent to run the tests as a host without them would.
 */
export function testDriverOptions(): { bwrapPath?: string; phpPath?: string } {
  const { BWRAP_PATH, PHP_PATH } = process.env;
  return { ...(BWRAP_PATH ? { bwrapPath: BWRAP_PATH } : {}), ...(PHP_PATH ? { phpPath: PHP_PATH } : {}) };
}

/** The same settings for a platform built in this process (testPlatform) or spawned (inherits them anyway). */
export function testPlatformEnv(): Record<string, string> {
  const { bwrapPath, phpPath } = testDriverOptions();
  return { ...(bwrapPath ? { BWRAP_PATH: bwrapPath } : {}), ...(phpPath ? { PHP_PATH: phpPath } : {}) };
}

const warned = new Set<string>();

/** One loud line per test file and missing piece, however many tests skip for it. */
function skipLoudly(reason: string): string {
  if (!warned.has(reason)) console.warn(`\n*** ${reason} ***\n`);
  warned.add(reason);
  return reason;
}

/** Tests that run code need bubblewrap; without it they skip loudly, never pass silently. */
export function sandboxSkipReason(): string | false {
  if (process.platform !== 'linux') return skipLoudly(`SKIPPED: sandbox tests need Linux, this is ${process.platform}`);
  if (findExecutable(testDriverOptions().bwrapPath ?? 'bwrap') === undefined) {
    return skipLoudly('SKIPPED: bubblewrap (bwrap) is not installed — install it with `apt-get install -y bubblewrap` to run sandbox tests');
  }
  return false;
}

/** Tests of PHP functions need php-cli (the platform refuses them without it). */
export function phpSkipReason(): string | false {
  const php = testDriverOptions().phpPath ?? '/usr/bin/php';
  if (findExecutable(php) === undefined) return skipLoudly(`SKIPPED: php-cli (${php}) is not installed — install it with \`apt-get install -y php-cli\` to run the PHP tests`);
  return false;
}

/** The `skip` option of a test of one runtime: php needs php-cli, the others nothing beyond the sandbox. */
export function runtimeSkip(runtime: string): string | false {
  return runtime === 'php' ? phpSkipReason() : false;
}
