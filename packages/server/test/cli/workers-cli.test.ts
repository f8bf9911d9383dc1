import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { runCli } from '../helpers/server-process.ts';

describe('skyscale workers list against a real server', () => {
  let p: TestPlatform;
  let config: string;
  let env: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WORKER_ID: 'cli-node', WARM_POOL_SIZE: '0' }, { listen: true });
    const admin = (await p.user('admin')).auth;
    const key = (await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: admin, payload: { name: 'cli' } })).json().key;
    config = mkdtempSync(path.join(tmpdir(), 'skyscale-cli-workers-'));
    env = { XDG_CONFIG_HOME: config, SKYSCALE_ENDPOINT: `http://127.0.0.1:${p.port}`, SKYSCALE_API_KEY: key };
  });
  after(async () => {
    await p.close();
    rmSync(config, { recursive: true, force: true });
  });

  test('a table of the workers, and --json as the API answers', async () => {
    const table = await runCli(['workers', 'list'], env);
    assert.equal(table.code, 0, table.stderr);
    for (const column of ['id', 'roles', 'state', 'load', 'capacity', 'in-flight', 'instances', 'last heartbeat']) assert.ok(table.stdout.includes(column), column);
    assert.match(table.stdout, /cli-node.*control,gateway,worker.*ready.*\d+\.\d\d.*10 exec \/ 64 inst.*\ds ago/);
    const json = await runCli(['workers', 'list', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const { workers } = JSON.parse(json.stdout);
    assert.deepEqual(workers.map((w: { id: string; state: string }) => [w.id, w.state]), [['cli-node', 'ready']]);
  });

  test('a user who is not an admin is told so', async () => {
    await p.user('bob');
    const login = await runCli(['login', '-u', 'bob'], { ...env, SKYSCALE_API_KEY: '' }, 'correct horse battery\n');
    assert.equal(login.code, 0, login.stderr);
    const denied = await runCli(['workers', 'list'], { ...env, SKYSCALE_API_KEY: '' });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /FORBIDDEN/);
  });
});
