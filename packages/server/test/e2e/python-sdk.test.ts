import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';
import { findExecutable } from '../../src/config/prerequisites.ts';

const sdk = path.resolve(import.meta.dirname, '../../../../sdk/python');
const python = findExecutable('/usr/bin/python3') ?? findExecutable('python3');

describe('the Python SDK against a live platform', { skip: sandboxSkipReason() || (python === undefined && 'SKIPPED: python3 is not installed') }, () => {
  let p: TestPlatform;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '0' }, { listen: true });
  });
  after(() => p.close());

  test('unittest suite in sdk/python passes', async () => {
    // Asynchronous on purpose: the platform under test runs in this process and must keep serving.
    const child = spawn(python!, ['-m', 'unittest', 'discover', '-s', 'tests', '-v'], {
      cwd: sdk,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: sdk, SKYSCALE_ENDPOINT: `http://127.0.0.1:${p.port}`, SKYSCALE_GATEWAY: p.gatewayUrl },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const run = { status, stdout, stderr };
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /Ran [1-9]\d* tests?/);
    assert.doesNotMatch(run.stderr, /skipped/);
  });
});
