import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadConfig } from '../../src/config/config.ts';
import { assemblePlatform, createLogger } from '../../src/main.ts';
import { errorCode } from '../helpers/platform.ts';
import { sandboxSkipReason, testPlatformEnv } from '../helpers/sandbox.ts';

/** A small file system of its own for DATA_DIR (a tmpfs), or why there cannot be one here. */
function mountSmallDisk(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0755', 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a tmpfs (${String((err as { stderr?: Buffer }).stderr ?? err).trim()}): run the tests as root`;
  }
}

/** Writes until the file system refuses another byte; the filler's path. */
function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

const mountPoint = mkdtempSync(path.join(tmpdir(), 'skyscale-full-disk-'));
const cannotMount = sandboxSkipReason() || mountSmallDisk(mountPoint);
if (cannotMount) {
  console.warn(`\n*** SKIPPED: the full-disk test: ${cannotMount} ***\n`);
  rmSync(mountPoint, { recursive: true, force: true });
}

test('on a full DATA_DIR writes answer 507 INSUFFICIENT_STORAGE, sync invocations still answer, and nothing committed is lost', { skip: cannotMount || false }, async () => {
  const dataDir = path.join(mountPoint, 'data');
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', WARM_POOL_SIZE: '0', ...testPlatformEnv() });
  const p = await assemblePlatform(config, createLogger(config));
  try {
    const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = {}) => p.api.inject({ method, url, payload: payload as object, headers });
    await call('POST', '/auth/register', { username: 'dora', password: 'correct horse battery' });
    const auth = { authorization: `Bearer ${(await call('POST', '/auth/login', { username: 'dora', password: 'correct horse battery' })).json().token}` };
    const fn = await call('POST', '/api/functions', { name: 'echo', runtime: 'node', code: 'export const handler = (e) => e;' }, auth);
    assert.equal(fn.statusCode, 201, fn.body);
    const fnId = fn.json().id;
    assert.equal((await call('POST', '/api/secrets', { name: 'kept', value: 'v1' }, auth)).statusCode, 201);
    const object = await p.api.inject({ method: 'PUT', url: `/api/function-objects/${fnId}/kept.txt`, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'still here' });
    assert.equal(object.statusCode, 200, object.body);
    assert.equal((await call('POST', `/api/functions/${fnId}/invoke`, { warm: 1 }, auth)).statusCode, 200);

    const filler = fillDisk(mountPoint);
    const writes = {
      deploy: () => call('POST', '/api/functions', { name: 'second', runtime: 'node', code: 'export const handler = () => 2;' }, auth),
      newVersion: () => call('PUT', `/api/functions/${fnId}`, { code: 'export const handler = (e) => ({ v2: e });' }, auth),
      secret: () => call('POST', '/api/secrets', { name: 'more', value: 'v2' }, auth),
      async: () => call('POST', `/api/functions/${fnId}/invoke?async=true`, { queued: true }, auth),
      register: () => call('POST', '/auth/register', { username: 'eve', password: 'correct horse battery' }),
      upload: () => p.api.inject({ method: 'PUT', url: `/api/function-objects/${fnId}/big.bin`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(1 << 20, 2) }),
    };
    for (const [name, write] of Object.entries(writes)) {
      const res = await write();
      assert.equal(res.statusCode, 507, `${name}: ${res.body}`);
      assert.equal(errorCode(res), 'INSUFFICIENT_STORAGE', name);
    }
    // A sync invocation needs no disk to answer; its record waits in memory for the space.
    const sync = await call('POST', `/api/functions/${fnId}/invoke`, { during: 'full' }, auth);
    assert.equal(sync.statusCode, 200, sync.body);
    assert.equal((await call('GET', `/api/executions/${sync.json().id}`, undefined, auth)).statusCode, 200);

    rmSync(filler);
    for (const [name, write] of Object.entries(writes)) assert.ok([200, 201, 202].includes((await write()).statusCode), `${name} once there is space`);
    const db = new DatabaseSync(path.join(dataDir, 'skyscale.db'), { readOnly: true });
    try {
      const stored = (): number => db.prepare('SELECT count(*) AS n FROM executions WHERE id = ?').get(sync.json().id)?.n as number;
      for (let i = 0; i < 100 && stored() === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(stored(), 1, 'the record answered during the full disk was written');
    } finally {
      db.close();
    }
    const names = (await call('GET', '/api/secrets', undefined, auth)).json().items.map((s: { name: string }) => s.name).sort();
    assert.deepEqual(names, ['kept', 'more']);
    const kept = await call('GET', `/api/function-objects/${fnId}/kept.txt`, undefined, auth);
    assert.equal(kept.body, 'still here');
    const functions = (await call('GET', '/api/functions', undefined, auth)).json().items.map((f: { name: string }) => f.name).sort();
    assert.deepEqual(functions, ['echo', 'second']);
  } finally {
    await p.close();
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  }
});
