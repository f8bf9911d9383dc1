import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const SEED_EXAMPLE = readFileSync(path.resolve(import.meta.dirname, '../../../../examples/seed-command-python/main.py'), 'utf8');

/** Reads the object named by the input's object_inputs.data through API_BASE_URL, and a secret from its env. */
const READER = `#!/usr/bin/env python3
import json, os, sys, urllib.request
event = json.loads(sys.argv[1])
with urllib.request.urlopen(os.environ["API_BASE_URL"] + "/" + event["object_inputs"]["data"], timeout=5) as res:
    body = json.loads(res.read())
print("read", event["object_inputs"]["data"], file=sys.stderr)
print(json.dumps({"total": sum(body["numbers"]), "token": os.environ.get("API_TOKEN"), "base": os.environ["API_BASE_URL"]}))
`;

describe('command functions through the API', { skip: sandboxSkipReason() }, () => {
  let p: TestPlatform;
  let alice: Record<string, string>;
  before(async () => {
    p = await testPlatform({ WARM_POOL_SIZE: '1' });
    alice = (await p.user('alice')).auth;
  });
  after(() => p.close());

  const deploy = async (payload: object) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload });
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  };
  const invoke = async (id: string, event: unknown) => {
    const res = await p.api.inject({ method: 'POST', url: `/api/functions/${id}/invoke`, headers: { ...alice, 'content-type': 'application/json' }, payload: JSON.stringify(event) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };
  const logsOf = async (executionId: string): Promise<string> => (await p.api.inject({ method: 'GET', url: `/api/executions/${executionId}/logs`, headers: alice })).json().logs;
  const putObject = async (fnId: string, name: string, body: string) => {
    const res = await p.api.inject({ method: 'PUT', url: `/api/function-objects/${fnId}/${name}`, headers: { ...alice, 'content-type': 'application/json' }, payload: body });
    assert.equal(res.statusCode, 200, res.body);
  };
  const createSecret = async (name: string, value: string) => {
    const res = await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name, value } });
    assert.equal(res.statusCode, 201, res.body);
  };

  test("the seed's example script runs unchanged, with an object input and a secret, through the seed's own routes", async () => {
    const fn = await deploy({ name: 'seed-example', runtime: 'command', handler: 'main.py', files: { 'main.py': SEED_EXAMPLE } });
    assert.equal(fn.timeoutMs, 300_000, 'command functions default to the seed\'s 5 minutes');
    await putObject(fn.id, 'names.json', '["World"]');
    await createSecret('greeting_key', 'k-123');
    const input = { name: 'World', object_inputs: { names: `${fn.id}/names.json` }, secrets: ['greeting_key'] };
    const queued = await p.api.inject({ method: 'POST', url: '/api/executions', headers: alice, payload: { function_id: fn.id, input } });
    assert.equal(queued.statusCode, 202, queued.body);
    let execution;
    for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      execution = (await p.api.inject({ method: 'GET', url: `/api/executions/${queued.json().id}`, headers: alice })).json();
      if (!['queued', 'running'].includes(execution.status)) break;
    }
    assert.equal(execution.status, 'succeeded', JSON.stringify(execution.error));
    assert.deepEqual(execution.result, { message: 'Hello World' });
    assert.deepEqual(execution.input, input);
  });

  test('a command reads an object through API_BASE_URL and a secret from its env; stderr is in the logs', async () => {
    await createSecret('api_token', 's3cr3t-value');
    const fn = await deploy({ name: 'reader', runtime: 'command', code: READER, filename: 'reader' });
    assert.equal(fn.handler, 'reader', 'one inline file is the entry');
    await putObject(fn.id, 'data.json', '{"numbers": [1, 2, 3.5]}');
    const execution = await invoke(fn.id, { object_inputs: { data: `${fn.id}/data.json` }, secrets: ['api_token'] });
    assert.equal(execution.status, 'succeeded', JSON.stringify(execution.error));
    assert.equal(execution.result.total, 6.5);
    assert.equal(execution.result.token, 's3cr3t-value');
    assert.match(execution.result.base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await logsOf(execution.id), `read ${fn.id}/data.json\n`);
    const warm = await invoke(fn.id, { object_inputs: { data: `${fn.id}/data.json` }, secrets: ['api_token'] });
    assert.equal(warm.coldStart, false);
    assert.equal(warm.instanceId, execution.instanceId);
    const without = await invoke(fn.id, { object_inputs: { data: `${fn.id}/data.json` } });
    assert.equal(without.result.token, null, 'a secret is only injected when requested');
  });

  test('{"error": ...}, a non-zero exit and non-JSON stdout are failed executions that say why', async () => {
    const script = `#!/bin/sh
case "$1" in
  *report*) echo '{"error": "the report is missing"}' ;;
  *exit*) echo "disk full" >&2; exit 3 ;;
  *) echo "plain words" ;;
esac
`;
    const fn = await deploy({ name: 'failing', runtime: 'command', handler: 'run.sh', files: { 'run.sh': script } });
    const reported = await invoke(fn.id, 'report');
    assert.equal(reported.status, 'failed');
    assert.deepEqual(reported.error, { reason: 'user_error', fault: 'user', message: 'the report is missing', stack: '' });
    const exited = await invoke(fn.id, 'exit');
    assert.equal(exited.status, 'failed');
    assert.match(exited.error.message, /^CommandFailed: the command exited with status 3; stderr: disk full$/);
    assert.equal(await logsOf(exited.id), 'disk full\n');
    const text = await invoke(fn.id, 'text');
    assert.equal(text.status, 'failed');
    assert.match(text.error.message, /^InvalidOutputError: the command's stdout is not JSON: plain words/);
    const raw = await p.api.inject({ method: 'POST', url: `/api/functions/${fn.id}/invoke?result=true`, headers: { ...alice, 'content-type': 'application/json' }, payload: '"report"' });
    assert.equal(raw.statusCode, 502);
    assert.match(raw.json().error.message, /^failed: the report is missing$/);
  });

  test('the timeout is enforced, and bounded by the server maximum', async () => {
    const fn = await deploy({ name: 'sleeper', runtime: 'command', handler: 'sleep.sh', timeoutMs: 800, files: { 'sleep.sh': '#!/bin/sh\necho started >&2\nsleep 30\n' } });
    const execution = await invoke(fn.id, {});
    assert.equal(execution.status, 'timed_out');
    assert.equal(await logsOf(execution.id), 'started\n');
    const tooLong = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'too-long', runtime: 'command', handler: 'sleep.sh', timeoutMs: 900_001, files: { 'sleep.sh': '#!/bin/sh\n' } } });
    assert.equal(tooLong.statusCode, 400);

    const small = await testPlatform({ WARM_POOL_SIZE: '0', MAX_TIMEOUT_SECONDS: '60' });
    try {
      const bob = (await small.user('bob')).auth;
      const deployed = await small.api.inject({ method: 'POST', url: '/api/functions', headers: bob, payload: { name: 'batch', runtime: 'command', handler: 'run.sh', files: { 'run.sh': '#!/bin/sh\necho 1\n' } } });
      assert.equal(deployed.json().timeoutMs, 60_000, 'the 5-minute default is capped by MAX_TIMEOUT_SECONDS');
      const over = await small.api.inject({ method: 'PUT', url: `/api/functions/${deployed.json().id}`, headers: bob, payload: { timeoutMs: 60_001 } });
      assert.equal(over.statusCode, 400);
      assert.equal(errorCode(over), 'VALIDATION_FAILED');
      assert.match(over.json().error.message, /at most 60000/);
    } finally {
      await small.close();
    }
  });

  test('deploys without a runnable entry are refused', async () => {
    const missing = await p.api.inject({ method: 'POST', url: '/api/functions', headers: alice, payload: { name: 'no-entry', runtime: 'command', handler: 'main.py', files: { 'other.py': 'print(1)' } } });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.json().error.message, /the entry file "main.py" is not in the code/);
    const fn = await deploy({ name: 'no-interpreter', runtime: 'command', handler: 'run', files: { run: '#!/nonexistent/bin/tool\n' } });
    const execution = await invoke(fn.id, {});
    assert.equal(execution.status, 'failed');
    assert.match(execution.error.message, /HandlerNotFoundError: 'run' starts with '#!\/nonexistent\/bin\/tool'/);
  });
});
