import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSkyscale } from '../helpers/server-process.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const uploads = (dir: string): string[] => readdirSync(dir).filter((name) => name.startsWith('.upload-'));

test('the temp file of an upload the server died under is removed at the next start', { skip: sandboxSkipReason() }, async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'skyscale-upload-crash-'));
  try {
    const first = await startSkyscale({ WARM_POOL_SIZE: '0' }, { dataDir });
    const post = async (url: string, body: unknown, headers: Record<string, string> = {}) =>
      (await fetch(first.url + url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })).json();
    await post('/auth/register', { username: 'uma', password: 'correct horse battery' });
    const { token } = await post('/auth/login', { username: 'uma', password: 'correct horse battery' });
    const fn = await post('/api/functions', { name: 'holder', runtime: 'node', code: 'export const handler = () => 1;' }, { authorization: `Bearer ${token}` });
    const objectsDir = path.join(dataDir, 'objects', fn.id);

    // An upload that has sent 1 MiB of a declared 10 MiB when the server is killed.
    const upload = request(`${first.url}/api/function-objects/${fn.id}/model.bin`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(10 << 20) } });
    upload.on('error', () => {});
    upload.write(Buffer.alloc(1 << 20, 7));
    for (let i = 0; i < 200; i++) {
      try {
        if (uploads(objectsDir).length > 0) break;
      } catch {
        // the function's directory is not made yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    upload.destroy();
    assert.equal(uploads(objectsDir).length, 1, 'the killed upload left its temp file');

    const second = await startSkyscale({ WARM_POOL_SIZE: '0' }, { dataDir });
    try {
      assert.deepEqual(uploads(objectsDir), []);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
