import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { assemblePlatform, createLogger } from '../../src/main.ts';
import { sandboxSkipReason, testPlatformEnv } from '../helpers/sandbox.ts';

const SECRET = 'k-7f3a-still-readable';

async function start(dataDir: string) {
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', WARM_POOL_SIZE: '0', ...testPlatformEnv() });
  return assemblePlatform(config, createLogger(config));
}

test('a key file that exists but does not parse stops start-up, names the file and is never replaced', { skip: sandboxSkipReason() }, async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'skyscale-keys-'));
  try {
    let p = await start(dataDir);
    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => p.api.inject({ method: 'POST', url, payload: payload as object, headers });
    await post('/auth/register', { username: 'kim', password: 'correct horse battery' });
    const auth = { authorization: `Bearer ${(await post('/auth/login', { username: 'kim', password: 'correct horse battery' })).json().token}` };
    assert.equal((await post('/api/secrets', { name: 'api_token', value: SECRET }, auth)).statusCode, 201);
    const fn = await post('/api/functions', { name: 'reader', runtime: 'node', secrets: ['api_token'], code: 'export const handler = () => process.env.API_TOKEN;' }, auth);
    assert.equal(fn.statusCode, 201, fn.body);
    await p.close();

    for (const name of ['secrets-key', 'jwt-secret']) {
      const file = path.join(dataDir, 'keys', name);
      const good = readFileSync(file, 'utf8');
      // A truncated write, an editor's accident, a disk error: each must stop the start, not be "repaired".
      for (const corrupt of ['', 'short\n', `${good.trim().slice(0, 20)}\n`, '\0'.repeat(48), 'not a key but long enough to pass a length check'] as const) {
        writeFileSync(file, corrupt);
        const refused = await start(dataDir).then(async (started) => void (await started.close()), (err: Error) => err);
        assert.ok(refused instanceof Error, `${name} = ${JSON.stringify(corrupt)} was accepted`);
        assert.ok(refused.message.includes(file), `the message names the file: ${refused.message}`);
        assert.equal(readFileSync(file, 'utf8'), corrupt, `${name} was left as it was`);
      }
      writeFileSync(file, good);
    }

    // With the keys back, the secret written before still decrypts and the session still verifies.
    p = await start(dataDir);
    try {
      const run = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.json().id}/invoke?result=true`, headers: auth, payload: {} });
      assert.equal(run.statusCode, 200, run.body);
      assert.equal(run.json(), SECRET);
    } finally {
      await p.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
