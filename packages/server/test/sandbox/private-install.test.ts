/** Interpreters installed where sandbox uids cannot search (a 0700 clone, a python prefix in a private home). */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ProcessDriver, type ProcessDriverOptions } from '../../src/sandbox/process/process-driver.ts';
import { reachableCopy } from '../../src/sandbox/process/reachable-copy.ts';
import type { SandboxRuntime } from '../../src/sandbox/driver.ts';
import { sandboxSkipReason, testDriverOptions } from '../helpers/sandbox.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'skyscale-private-install-'));
// Searchable, so work dirs in it are reachable; the "homes" in it are 0700.
chmodSync(scratch, 0o711);
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('reachableCopy', () => {
  test('hardlinks files others may read, copies the rest readable, keeps symlinks, and is made once per install', async () => {
    const source = path.join(scratch, 'copy-src', 'prefix');
    mkdirSync(path.join(source, 'bin'), { recursive: true });
    writeFileSync(path.join(source, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(path.join(source, 'owner-only'), 'x', { mode: 0o600 });
    symlinkSync('bin/tool', path.join(source, 'link'));
    const parent = path.join(scratch, 'copies');

    const copy = await reachableCopy(source, parent, 'python-3.11.2');
    assert.equal(path.basename(copy), 'prefix');
    assert.equal(statSync(path.join(copy, 'bin', 'tool')).ino, statSync(path.join(source, 'bin', 'tool')).ino, 'a world-readable program is hardlinked');
    const ownerOnly = statSync(path.join(copy, 'owner-only'));
    assert.notEqual(ownerOnly.ino, statSync(path.join(source, 'owner-only')).ino, 'a file others cannot read is copied');
    assert.equal(ownerOnly.mode & 0o777, 0o644);
    assert.equal(readlinkSync(path.join(copy, 'link')), 'bin/tool');
    assert.equal(statSync(path.dirname(copy)).mode & 0o777, 0o755);

    assert.equal(await reachableCopy(source, parent, 'python-3.11.2'), copy, 'an unchanged install reuses its copy');
    assert.equal(statSync(path.join(copy, 'owner-only')).ino, ownerOnly.ino);
    rmSync(path.join(source, 'bin'), { recursive: true });
    mkdirSync(path.join(source, 'bin'));
    writeFileSync(path.join(source, 'bin', 'tool'), '#!/bin/sh\necho new\n', { mode: 0o755 });
    const reinstalled = await reachableCopy(source, parent, 'python-3.11.2');
    assert.notEqual(reinstalled, copy, 'a reinstall gets a new copy');
    assert.match(readFileSync(path.join(reinstalled, 'bin', 'tool'), 'utf8'), /echo new/);
  });
});

/** A 0700 directory holding Node (a hardlink of this one) and a Python whose prefix is there too. */
function privateInstall(): { nodePath: string; pythonPath: string } {
  const home = mkdtempSync(path.join(scratch, 'home-'));
  assert.equal(statSync(home).mode & 0o777, 0o700);
  mkdirSync(path.join(home, 'node', 'bin'), { recursive: true });
  const nodePath = path.join(home, 'node', 'bin', 'node');
  try {
    linkSync(process.execPath, nodePath);
  } catch {
    copyFileSync(process.execPath, nodePath);
    chmodSync(nodePath, 0o755);
  }
  // Python finds its prefix from the landmark lib/python3.X/os.py next to its binary.
  const python = readlinkSync('/usr/bin/python3');
  mkdirSync(path.join(home, 'python', 'bin'), { recursive: true });
  mkdirSync(path.join(home, 'python', 'lib'));
  const pythonPath = path.join(home, 'python', 'bin', 'python3');
  copyFileSync(path.resolve('/usr/bin', python), pythonPath);
  chmodSync(pythonPath, 0o755);
  symlinkSync(`/usr/lib/${python}`, path.join(home, 'python', 'lib', python));
  return { nodePath, pythonPath };
}

const skip = process.getuid?.() !== 0 ? 'only root runs sandboxes as other uids: nothing to make reachable' : sandboxSkipReason();

describe('interpreters in a directory sandbox uids cannot search', { skip }, () => {
  const cases: Array<[string, ProcessDriverOptions]> = [
    ['sandboxed', {}],
    ['sandboxed, from pre-admitted launchers', { launchers: 1 }],
    ['unsandboxed (SANDBOX=none)', { bwrapPath: '/nonexistent/bwrap', allowUnsandboxed: true, logger: { warn: () => {} } }],
  ];
  for (const [name, options] of cases) {
    test(`${name}: node and python run from copies in the work dir`, async () => {
      const workDir = mkdtempSync(path.join(scratch, 'work-'));
      const driver = new ProcessDriver({ ...testDriverOptions(), ...options, workDir, cgroupName: 'skyscale-test', ...privateInstall() });
      try {
        const caps = await driver.probe();
        assert.equal(caps.usable, true, caps.warnings.join('; '));
        for (const runtime of ['node', 'python'] as const) assert.ok(caps.runtimes[runtime]!.path.startsWith(path.join(workDir, 'interpreters')), `${runtime}: ${caps.runtimes[runtime]!.path}`);
        assert.deepEqual(await run(driver, workDir, 'node', 'index.handler', { 'index.js': 'exports.handler = () => ({ version: process.version });' }), { version: process.version });
        const python = (await run(driver, workDir, 'python', 'main.handler', { 'main.py': 'import sys\ndef handler(event, context):\n    return {"prefix": sys.prefix}\n' })) as { prefix: string };
        if (options.bwrapPath === undefined) assert.match(python.prefix, /\/home-[^/]+\/python$/, 'inside, the prefix is where it was installed');
      } finally {
        await driver.close();
      }
    });
  }
});

async function run(driver: ProcessDriver, workDir: string, runtime: SandboxRuntime, handler: string, files: Record<string, string>): Promise<unknown> {
  const codeDir = mkdtempSync(path.join(workDir, 'code-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(codeDir, name), content);
  const instance = await driver.start({ id: `private-${runtime}-${randomUUID().slice(0, 8)}`, runtime, limits: { memoryMb: 128 } });
  try {
    const loaded = await instance.load({ codeDir, handler, env: {}, functionName: 'f', functionVersion: '1', deadlineMs: Date.now() + 10_000 });
    assert.equal(loaded.kind, 'loaded', JSON.stringify(loaded));
    const outcome = await instance.invoke({ executionId: 'e1', event: null, deadlineMs: Date.now() + 10_000 });
    assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
    return (outcome as { result: unknown }).result;
  } finally {
    await instance.kill('done');
  }
}
