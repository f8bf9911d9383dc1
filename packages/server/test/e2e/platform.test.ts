import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SkyscaleClient, SkyscaleError } from '@skyscale/client';
import { runCli, startSkyscale } from '../helpers/server-process.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const skip = sandboxSkipReason();
const examples = path.resolve(import.meta.dirname, '../../../../examples');

const cli = runCli;

describe('end to end: the real server driven by the CLI and the SDK', { skip }, () => {
  let server: Awaited<ReturnType<typeof startSkyscale>>;
  let work: string;
  let env: Record<string, string>;
  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'skyscale-e2e-'));
    const dataDir = path.join(work, 'data');
    server = await startSkyscale({ WARM_POOL_SIZE: '1', ASYNC_RETRY_BASE_MS: '100' }, { dataDir });
    env = { XDG_CONFIG_HOME: path.join(work, 'config'), SKYSCALE_ENDPOINT: server.url, SKYSCALE_API_KEY: '' };
  });
  after(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('register, log in, create a key, deploy a directory, invoke, inspect — all with the CLI', async () => {
    assert.equal((await cli(['register', '-u', 'alice'], env, 'alice-password\n')).code, 0);
    const login = await cli(['login', '-u', 'alice'], env, 'alice-password\n');
    assert.equal(login.code, 0, login.stderr);
    const configFile = path.join(env.XDG_CONFIG_HOME, 'skyscale', 'config.json');
    assert.equal(statSync(configFile).mode & 0o777, 0o600);

    const key = await cli(['keys', 'create', '--name', 'e2e'], env);
    assert.equal(key.code, 0, key.stderr);
    const apiKey = key.stdout.trim();
    assert.match(apiKey, /^sk_/);
    const withKey = { ...env, SKYSCALE_API_KEY: apiKey };

    const dir = path.join(work, 'hello');
    mkdirSync(path.join(dir, 'lib'), { recursive: true });
    writeFileSync(path.join(dir, 'index.mjs'), "import { greet } from './lib/greet.mjs';\nexport const handler = (event) => { console.log('greeting', event.name); return greet(event.name); };\n");
    writeFileSync(path.join(dir, 'lib', 'greet.mjs'), 'export const greet = (name) => ({ message: `Hello ${name}` });\n');
    const deploy = await cli(['fn', 'deploy', dir, '--name', 'hello', '--runtime', 'node', '--json'], withKey);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.equal(JSON.parse(deploy.stdout).version, 1);

    const list = await cli(['fn', 'list'], withKey);
    assert.match(list.stdout, /hello/);
    const invoke = await cli(['fn', 'invoke', 'hello', '--data', '{"name":"Ada"}'], withKey);
    assert.equal(invoke.code, 0, invoke.stderr);
    assert.deepEqual(JSON.parse(invoke.stdout), { message: 'Hello Ada' });

    const execs = JSON.parse((await cli(['exec', 'list', '--json'], withKey)).stdout);
    const logs = await cli(['exec', 'logs', execs.items[0].id], withKey);
    assert.match(logs.stdout, /greeting Ada/);
    assert.match((await cli(['vms', 'list'], withKey)).stdout, /hello/);
    const load = JSON.parse((await cli(['vms', 'load', '--json'], withKey)).stdout);
    assert.equal(load.settings.emaFactor, 0.7);
    assert.ok(load.instances.some((i: { functionName: string; score: number }) => i.functionName === 'hello' && i.score >= 0));
    assert.match((await cli(['vms', 'load'], withKey)).stdout, /hello.*\d+\.\d{3}/);

    const python = path.join(work, 'main.py');
    writeFileSync(python, 'def handler(event, context):\n    return {"py": event["x"] * 2}\n');
    assert.equal((await cli(['fn', 'deploy', python, '--name', 'py', '--runtime', 'python'], withKey)).code, 0);
    assert.deepEqual(JSON.parse((await cli(['fn', 'invoke', 'py', '--data', '{"x":21}'], withKey)).stdout), { py: 42 });

    const missing = await cli(['fn', 'get', 'nope'], withKey);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NOT_FOUND/);
    assert.equal((await cli(['fn', 'frobnicate'], withKey)).code, 2);
    assert.equal((await cli(['fn', 'list'], { ...env, SKYSCALE_API_KEY: 'sk_wrong' })).code, 1);
  });

  test('secrets with the CLI: set from stdin, inject into a function, list names only, remove', async () => {
    const login = await cli(['login', '-u', 'alice'], env, 'alice-password\n');
    assert.equal(login.code, 0, login.stderr);
    assert.equal((await cli(['secrets', 'set', 'service_token'], env, 'tok-123\n')).code, 0);
    const list = await cli(['secrets', 'list'], env);
    assert.match(list.stdout, /service_token/);
    assert.ok(!list.stdout.includes('tok-123'));
    const file = path.join(work, 'secret.mjs');
    writeFileSync(file, 'export const handler = () => process.env.SERVICE_TOKEN;\n');
    assert.equal((await cli(['fn', 'deploy', file, '--name', 'uses-secret', '--runtime', 'node', '--handler', 'secret.handler', '--secret', 'service_token'], env)).code, 0);
    assert.equal(JSON.parse((await cli(['fn', 'invoke', 'uses-secret'], env)).stdout), 'tok-123');
    assert.equal((await cli(['secrets', 'rm', 'service_token'], env)).code, 0);
    assert.equal((await cli(['fn', 'invoke', 'uses-secret'], env)).code, 1, 'fails closed once the secret is gone');
  });

  test('objects with the CLI: put, list, get, rm', async () => {
    const file = path.join(work, 'table.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    const put = await cli(['objects', 'put', 'hello', file], env);
    assert.equal(put.code, 0, put.stderr);
    assert.match((await cli(['objects', 'list', 'hello'], env)).stdout, /table\.csv.*text\/csv/);
    assert.equal((await cli(['objects', 'get', 'hello', 'table.csv'], env)).stdout, 'a,b\n1,2\n');
    assert.equal((await cli(['objects', 'rm', 'hello', 'table.csv'], env)).code, 0);
    const gone = await cli(['objects', 'get', 'hello', 'table.csv'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NOT_FOUND/);
  });

  test('routes with the CLI: deploy --route, routes list, then plain HTTP on the gateway', async () => {
    const file = path.join(work, 'api.mjs');
    writeFileSync(file, 'export const handler = (e) => ({ statusCode: 200, body: { hello: JSON.parse(e.body ?? "{}").name ?? e.params.name } });\n');
    const deploy = await cli(['fn', 'deploy', file, '--name', 'api', '--runtime', 'node', '--handler', 'api.handler', '--route', 'POST /api/hello', '--route', 'get /api/hello/:name api_key'], env);
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.match(deploy.stdout, /Routes: POST \/api\/hello, GET \/api\/hello\/:name \(api key\)/);
    const list = await cli(['routes', 'list'], env);
    assert.match(list.stdout, /POST.*\/api\/hello.*api.*public/);
    assert.match(list.stdout, /GET.*\/api\/hello\/:name.*api.*api_key/);
    const res = await fetch(`${server.gatewayUrl}/api/hello`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Alice"}' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { hello: 'Alice' });
    assert.equal((await fetch(`${server.gatewayUrl}/api/hello/Bob`)).status, 401);
    assert.equal((await cli(['fn', 'deploy', file, '--name', 'api', '--route', 'POST api/hello'], env)).code, 2);
    assert.equal((await cli(['fn', 'deploy', file, '--name', 'api', '--clear-routes', '--public'], env)).code, 0);
    assert.equal((await fetch(`${server.gatewayUrl}/api/hello`, { method: 'POST' })).status, 404);
    assert.deepEqual(await (await fetch(`${server.gatewayUrl}/function/api/x?`, { method: 'POST', body: '{"name":"Pub"}', headers: { 'content-type': 'application/json' } })).json(), { hello: 'Pub' });
    const set = await cli(['routes', 'set', 'api', '--route', 'PUT /api/v2/hello', '--no-public'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /api: routes PUT \/api\/v2\/hello$/m);
    assert.equal((await fetch(`${server.gatewayUrl}/api/v2/hello`, { method: 'PUT', body: '{"name":"Two"}' })).status, 200);
    assert.equal((await fetch(`${server.gatewayUrl}/function/api`, { method: 'POST' })).status, 404);
    assert.equal((await cli(['routes', 'set', 'api'], env)).code, 2, 'nothing to change is a usage error');
  });

  test("the seed walkthrough with the CLI: a secret, an object, the seed's example as a command function; a .wasm file", async () => {
    assert.equal((await cli(['login', '-u', 'alice'], env, 'alice-password\n')).code, 0);
    assert.equal((await cli(['secrets', 'set', 'greeting_key'], env, 'k-123\n')).code, 0);
    const seed = path.join(examples, 'seed-command-python', 'main.py');
    const deployed = await cli(['fn', 'deploy', seed, '--name', 'seed-hello', '--runtime', 'command', '--json'], env);
    assert.equal(deployed.code, 0, deployed.stderr);
    const fn = JSON.parse(deployed.stdout);
    assert.deepEqual([fn.handler, fn.timeoutMs], ['main.py', 300_000]);
    const names = path.join(work, 'names.json');
    writeFileSync(names, '["World"]');
    assert.equal((await cli(['objects', 'put', 'seed-hello', names], env)).code, 0);
    const input = { name: 'World', object_inputs: { names: `${fn.id}/names.json` }, secrets: ['greeting_key'] };
    const run = await cli(['fn', 'invoke', 'seed-hello', '--data', JSON.stringify(input)], env);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { message: 'Hello World' });

    const wasm = await cli(['fn', 'deploy', path.join(examples, 'hello-wasm', 'main.wasm'), '--name', 'hello-wasm', '--runtime', 'wasm'], env);
    assert.equal(wasm.code, 0, wasm.stderr);
    assert.deepEqual(JSON.parse((await cli(['fn', 'invoke', 'hello-wasm', '--data', '{"name":"Ada"}'], env)).stdout), { message: 'Hello Ada' });
    const failed = await cli(['fn', 'invoke', 'hello-wasm', '--data', '{}'], env);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /failed: the input needs a "name" string/);
  });

  test('the SDK sees the same platform; errors carry codes', async () => {
    const client = new SkyscaleClient({ endpoint: server.url });
    const { token } = await client.login('alice', 'alice-password');
    const authed = new SkyscaleClient({ endpoint: server.url, token });
    const fn = await authed.getFunctionByName('hello');
    const execution = await authed.invoke({ id: fn.id }, { name: 'SDK' });
    assert.deepEqual(execution.result, { message: 'Hello SDK' });
    await assert.rejects(authed.getFunction('00000000-0000-4000-8000-000000000000'), (err: unknown) => err instanceof SkyscaleError && err.status === 404 && err.code === 'NOT_FOUND');
    await client.register('bob', 'bob-password');
    const bob = new SkyscaleClient({ endpoint: server.url, token: (await client.login('bob', 'bob-password')).token });
    await assert.rejects(bob.getFunction(fn.id), (err: unknown) => err instanceof SkyscaleError && err.status === 404);
  });

  test('accepted async work survives a hard kill of the server', async () => {
    const client = new SkyscaleClient({ endpoint: server.url });
    const authed = new SkyscaleClient({ endpoint: server.url, token: (await client.login('alice', 'alice-password')).token });
    const slow = await authed.createFunction({ name: 'slow', runtime: 'node', code: 'export const handler = async (e) => { await new Promise(r => setTimeout(r, 300)); return e.n; };', maxInstances: 1 });
    const queued = await Promise.all(Array.from({ length: 6 }, (_, n) => authed.invokeAsync({ id: slow.id }, { n })));
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    server = await startSkyscale({ WARM_POOL_SIZE: '1', ASYNC_RETRY_BASE_MS: '100' }, { dataDir: server.dataDir });
    const after = new SkyscaleClient({ endpoint: server.url, token: (await new SkyscaleClient({ endpoint: server.url }).login('alice', 'alice-password')).token });
    for (const [n, q] of queued.entries()) {
      const done = await after.waitForExecution(q.id, { timeoutMs: 90_000 });
      assert.equal(done.status, 'succeeded', `${q.id}: ${JSON.stringify(done.error)}`);
      assert.equal(done.result, n);
    }
  });

  test('SIGTERM stops the server cleanly', async () => {
    const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
    server.child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
