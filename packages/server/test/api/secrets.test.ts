import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import path from 'node:path';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const SECRET = 'postgres://user:S3cr3t-Value-9f1c@db/prod';

describe('secrets', () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  let bob: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '0' });
    alice = (await p.user('alice')).auth;
    bob = (await p.user('bob')).auth;
  });
  after(() => p.close());

  const all = (res: { body: string }) => assert.ok(!res.body.includes(SECRET), `the value leaked: ${res.body.slice(0, 200)}`);

  test('create, list, get, update, delete — values never come back, and they are encrypted at rest', async () => {
    const created = await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name: 'database_url', value: SECRET } });
    assert.equal(created.statusCode, 201, created.body);
    all(created);
    const { id } = created.json();
    assert.deepEqual(Object.keys(created.json()).sort(), ['createdAt', 'id', 'name', 'updatedAt']);
    for (const res of [
      await p.api.inject({ method: 'GET', url: '/api/secrets', headers: alice }),
      await p.api.inject({ method: 'GET', url: `/api/v1/secrets/${id}`, headers: alice }),
      await p.api.inject({ method: 'PUT', url: `/api/secrets/${id}`, headers: alice, payload: { value: SECRET } }),
    ]) {
      assert.equal(res.statusCode, 200);
      all(res);
    }
    for (const file of ['skyscale.db', 'skyscale.db-wal']) {
      const f = path.join(p.dataDir, file);
      if (existsSync(f)) assert.ok(!readFileSync(f).includes(SECRET), `${file} holds the plaintext`);
    }
    assert.equal(statSync(path.join(p.dataDir, 'keys', 'secrets-key')).mode & 0o777, 0o600);
    const dup = await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name: 'DATABASE_URL', value: 'x' } });
    assert.equal(dup.statusCode, 409);
    for (const name of ['1abc', 'a-b', '../x', 'a b', '']) {
      assert.equal((await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name, value: 'x' } })).statusCode, 400, name);
    }
  });

  test("another user's secrets answer 404 and are absent from their list", async () => {
    const { id } = (await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name: 'private_token', value: SECRET } })).json();
    for (const req of [
      { method: 'GET', url: `/api/secrets/${id}` },
      { method: 'PUT', url: `/api/secrets/${id}`, payload: { value: 'stolen' } },
      { method: 'DELETE', url: `/api/secrets/${id}` },
    ] as const) {
      const res = await p.api.inject({ ...req, headers: bob });
      assert.equal(res.statusCode, 404);
      assert.equal(errorCode(res), 'NOT_FOUND');
    }
    assert.deepEqual((await p.api.inject({ method: 'GET', url: '/api/secrets', headers: bob })).json().items, []);
    assert.equal((await p.api.inject({ method: 'DELETE', url: `/api/secrets/${id}`, headers: alice })).statusCode, 204);
    assert.equal((await p.api.inject({ method: 'GET', url: `/api/secrets/${id}`, headers: alice })).statusCode, 404);
  });

  describe('injection into functions', { skip: sandboxSkipReason() }, () => {
    const invoke = (name: string, headers = alice) => p.api.inject({ method: 'POST', url: `/api/functions/name/${name}/invoke`, headers: { ...headers, 'content-type': 'application/json' }, payload: '{}' });

    test('declared secrets arrive as upper-case env vars in node and python; updates are seen', async () => {
      const created = (await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name: 'api_token', value: 'v1-token' } })).json();
      await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'env-node', runtime: 'node', secrets: ['api_token'], code: 'export const handler = () => ({ token: process.env.API_TOKEN, other: process.env.DATABASE_URL ?? null });' } });
      await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'env-py', runtime: 'python', secrets: ['API_TOKEN'], code: 'import os\ndef handler(e, c):\n    return {"token": os.environ.get("API_TOKEN")}\n' } });
      assert.deepEqual((await invoke('env-node')).json().result, { token: 'v1-token', other: null });
      assert.deepEqual((await invoke('env-py')).json().result, { token: 'v1-token' });
      await p.api.inject({ method: 'PUT', url: `/api/secrets/${created.id}`, headers: alice, payload: { value: 'v2-token' } });
      assert.deepEqual((await invoke('env-node')).json().result.token, 'v2-token');
    });

    test("a missing secret, or another user's, fails closed as system_error without running the code", async () => {
      await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name: 'alice_only', value: SECRET } });
      await p.api.inject({ method: 'POST', url: '/api/functions', headers: bob, payload: { name: 'thief', runtime: 'node', secrets: ['alice_only'], code: 'export const handler = () => process.env.ALICE_ONLY;' } });
      const res = await invoke('thief', bob);
      const e = res.json();
      assert.equal(e.status, 'system_error');
      assert.equal(e.error.reason, 'secrets_unavailable');
      assert.match(e.error.message, /does not exist/);
      all(res);
    });

    test('a ciphertext that no longer decrypts fails closed with a clear reason and no value', async () => {
      await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name: 'tampered', value: SECRET } });
      const db = new DatabaseSync(path.join(p.dataDir, 'skyscale.db'));
      const row = db.prepare("SELECT ciphertext FROM secrets WHERE name = 'tampered'").get() as { ciphertext: string };
      const raw = Buffer.from(row.ciphertext, 'base64');
      raw[raw.length - 1] ^= 0xff;
      db.prepare("UPDATE secrets SET ciphertext = ? WHERE name = 'tampered'").run(raw.toString('base64'));
      db.close();
      await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'uses-tampered', runtime: 'node', secrets: ['tampered'], code: 'export const handler = () => process.env.TAMPERED;' } });
      const res = await invoke('uses-tampered');
      assert.equal(res.json().status, 'system_error');
      assert.match(res.json().error.message, /cannot be decrypted/);
      all(res);
    });
  });
});
