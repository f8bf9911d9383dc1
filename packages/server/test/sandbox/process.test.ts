/** The process driver (bubblewrap + cgroups) against the shared conformance suite. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ProcessDriver, type ProcessDriverOptions } from '../../src/sandbox/process/process-driver.ts';
import { sandboxSkipReason, testDriverOptions } from '../helpers/sandbox.ts';
import { runDriverConformance } from './conformance.case.ts';

const workDirs: string[] = [];

function makeDriver(options: ProcessDriverOptions = {}): () => ProcessDriver {
  return () => {
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-sandbox-test-'));
    workDirs.push(workDir);
    return new ProcessDriver({ ...testDriverOptions(), workDir, cgroupName: 'skyscale-test', ...options });
  };
}

const skip = sandboxSkipReason();
if (skip) {
  test('process driver conformance', { skip }, () => {});
} else {
  runDriverConformance('process driver, bubblewrap + cgroups', makeDriver());
  // Instances exec'd by pre-admitted launchers (what `skyscale serve` uses) must give the same guarantees.
  runDriverConformance('process driver, bubblewrap + cgroups, pre-admitted launchers', makeDriver({ launchers: 2 }));
  // The same guarantees through the fallbacks a host without writable cgroups gets.
  runDriverConformance('process driver, bubblewrap + fallbacks (RSS watchdog, RLIMIT_NPROC)', makeDriver({ cgroups: false }));
  after(() => {
    for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
  });
}
