import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirLockedError, lockDataDir } from '../../src/store/data-dir-lock.ts';
import { freePort, skyscaleBin, startSkyscale } from '../helpers/server-process.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

test('the data directory lock: one holder at a time, named in the refusal, free again once released', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-lock-'));
  try {
    const held = lockDataDir(dir);
    assert.throws(() => lockDataDir(dir), (err: unknown) => err instanceof DataDirLockedError && err.holderPid === process.pid && err.message.includes(String(process.pid)));
    held.release();
    lockDataDir(dir).release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second `serve` on a running server\'s DATA_DIR refuses to start, naming the holder, and takes nothing from it', { skip: sandboxSkipReason() }, async () => {
  const a = await startSkyscale({ WARM_POOL_SIZE: '0' });
  try {
    const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(a.url + url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      assert.ok(res.ok, `${url}: ${res.status} ${await res.clone().text()}`);
      return res.json();
    };
    await post('/auth/register', { username: 'lock', password: 'correct horse battery' });
    const { token } = await post('/auth/login', { username: 'lock', password: 'correct horse battery' });
    const auth = { authorization: `Bearer ${token}` };
    const fn = await post('/api/functions', { name: 'slow', runtime: 'node', code: 'export const handler = async () => { await new Promise((r) => setTimeout(r, 2500)); return "done"; };' }, auth);
    const queued = await post(`/api/functions/${fn.id}/invoke?async=true`, {}, auth);
    // Let the first server lease and start the execution.
    for (let i = 0; i < 100; i++) {
      const e = await (await fetch(`${a.url}/api/executions/${queued.id}`, { headers: auth })).json();
      if (e.status === 'running') break;
      await new Promise((r) => setTimeout(r, 25));
    }

    const b = spawn(process.execPath, [skyscaleBin, 'serve'], {
      env: { ...process.env, PORT: String(await freePort()), GATEWAY_PORT: String(await freePort()), DATA_DIR: a.dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    b.stdout.on('data', (d: Buffer) => (output += d.toString()));
    b.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => b.on('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(output, new RegExp(`in use by the Skyscale process with pid ${a.child.pid}`));
    assert.doesNotMatch(output, /at .*\.ts:\d+/, 'a message, not a stack trace');

    let done: { status: string; attempts: number; result: unknown } | undefined;
    for (let i = 0; i < 200 && done?.status !== 'succeeded'; i++) {
      done = await (await fetch(`${a.url}/api/executions/${queued.id}`, { headers: auth })).json();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(done?.status, 'succeeded');
    assert.equal(done?.attempts, 1, 'the running execution was not taken from its live holder');
    assert.equal(done?.result, 'done');
  } finally {
    await a.stop();
  }
});

test('a data directory left by a killed server is free at once (the lock dies with its process)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-lock-'));
  try {
    mkdirSync(dir, { recursive: true });
    const script = `import(${JSON.stringify(path.resolve(import.meta.dirname, '../../src/store/data-dir-lock.ts'))}).then((m) => { m.lockDataDir(${JSON.stringify(dir)}); process.kill(process.pid, 'SIGKILL'); });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    return new Promise<void>((resolve, reject) => {
      child.on('exit', () => {
        try {
          lockDataDir(dir).release();
          resolve();
        } catch (err) {
          reject(err);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
});
