import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

// Functions read objects at $API_BASE_URL with no credentials: the platform authenticates the channel
// as the running execution. These tests probe that from inside real sandboxes.

let p: TestPlatform;
let alice: Record<string, string>;
let bob: Record<string, string>;

/** Fetches each path under API_BASE_URL and reports status + body, so one invocation probes many paths. */
const PROBE_NODE = `
export async function handler(event) {
  const out = {};
  for (const path of event.paths) {
    try {
      const res = await fetch(process.env.API_BASE_URL + path, { method: event.method ?? 'GET' });
      out[path] = { status: res.status, body: await res.text() };
    } catch (err) {
      out[path] = { status: 0, body: String(err) };
    }
  }
  return { base: process.env.API_BASE_URL, out };
}`;

const PROBE_PYTHON = `
import os, urllib.request, urllib.error

def handler(event, context):
    out = {}
    for path in event["paths"]:
        try:
            with urllib.request.urlopen(os.environ["API_BASE_URL"] + path, timeout=5) as res:
                out[path] = {"status": res.status, "body": res.read().decode()}
        except urllib.error.HTTPError as err:
            out[path] = {"status": err.code, "body": err.read().decode()}
    return {"out": out, "token": os.environ.get("API_TOKEN")}
`;

async function deploy(auth: Record<string, string>, name: string, runtime: string, code: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name, runtime, code, ...extra } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function putObject(auth: Record<string, string>, fnId: string, name: string, body: string): Promise<void> {
  const res = await p.api.inject({ method: 'PUT', url: `/api/function-objects/${fnId}/${encodeURIComponent(name)}`, headers: { ...auth, 'content-type': 'text/plain' }, payload: body });
  assert.equal(res.statusCode, 200, res.body);
}

async function invoke(auth: Record<string, string>, fnId: string, event: unknown) {
  const res = await p.api.inject({ method: 'POST', url: `/api/functions/${fnId}/invoke`, headers: auth, payload: event as Record<string, unknown> });
  assert.equal(res.statusCode, 200, res.body);
  const execution = res.json();
  assert.equal(execution.status, 'succeeded', JSON.stringify(execution.error));
  return execution.result;
}

let nodeFn: string;
let otherFn: string;
let bobFn: string;
const skip = sandboxSkipReason();

before(async () => {
  p = await testPlatform();
  alice = (await p.user('alice')).auth;
  bob = (await p.user('bob')).auth;
  nodeFn = await deploy(alice, 'reader', 'node', PROBE_NODE);
  otherFn = await deploy(alice, 'other', 'node', 'export const handler = () => 1;');
  bobFn = await deploy(bob, 'bobs', 'node', 'export const handler = () => 1;');
  await putObject(alice, nodeFn, 'greeting.txt', 'hello from an object');
  await putObject(alice, otherFn, 'shared.txt', 'granted by object_inputs');
  await putObject(alice, otherFn, 'private.txt', 'not granted');
  await putObject(bob, bobFn, 'secret.txt', "bob's data");
});
after(() => p.close());

test('a function reads its own objects at API_BASE_URL, a loopback address inside its sandbox', { skip }, async () => {
  const result = await invoke(alice, nodeFn, { paths: [`/${nodeFn}/greeting.txt`, `/${nodeFn}`, `/${nodeFn}/missing.txt`] });
  assert.match(result.base, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(result.out[`/${nodeFn}/greeting.txt`], { status: 200, body: 'hello from an object' });
  assert.deepEqual(JSON.parse(result.out[`/${nodeFn}`].body).items.map((o: { name: string }) => o.name), ['greeting.txt']);
  assert.equal(result.out[`/${nodeFn}/missing.txt`].status, 404);
});

test("other functions' objects are unreachable unless the execution's object_inputs name them; other users' never", { skip }, async () => {
  const paths = [`/${otherFn}/shared.txt`, `/${otherFn}/private.txt`, `/${otherFn}`, `/${bobFn}/secret.txt`, `/${bobFn}`];
  const plain = (await invoke(alice, nodeFn, { paths })).out;
  for (const path of paths) assert.equal(plain[path].status, 404, `${path}: ${plain[path].body}`);

  const granted = (await invoke(alice, nodeFn, { paths, object_inputs: { file: `${otherFn}/shared.txt` } })).out;
  assert.deepEqual(granted[`/${otherFn}/shared.txt`], { status: 200, body: 'granted by object_inputs' });
  for (const path of paths.slice(1)) assert.equal(granted[path].status, 404, path);
  assert.doesNotMatch(JSON.stringify(granted), /bob's data/);

  // Naming bob's object in object_inputs is refused before the execution is even accepted.
  const res = await p.api.inject({ method: 'POST', url: `/api/functions/${nodeFn}/invoke`, headers: alice, payload: { paths, object_inputs: { f: `${bobFn}/secret.txt` } } });
  assert.equal(res.statusCode, 404);
});

test('traversal and odd paths reach nothing; the channel is read-only', { skip }, async () => {
  const paths = [
    `/${nodeFn}/..%2F..%2Fetc%2Fpasswd`,
    `/${nodeFn}/../${bobFn}/secret.txt`,
    `/${nodeFn}/%2e%2e`,
    `/${nodeFn}/greeting.txt/extra`,
    `/${nodeFn}/%E0%A4%A`,
    `/../../etc/shadow`,
    '/',
    `/api/function-objects/${nodeFn}/greeting.txt`,
  ];
  const out = (await invoke(alice, nodeFn, { paths })).out;
  for (const path of paths) {
    assert.ok([400, 404].includes(out[path].status), `${path} answered ${out[path].status}: ${out[path].body}`);
    assert.doesNotMatch(out[path].body, /root:|bob's data/);
  }
  const put = (await invoke(alice, nodeFn, { paths: [`/${nodeFn}/greeting.txt`], method: 'DELETE' })).out;
  assert.equal(put[`/${nodeFn}/greeting.txt`].status, 405);
  const still = await p.api.inject({ method: 'GET', url: `/api/function-objects/${nodeFn}/greeting.txt`, headers: alice });
  assert.equal(still.body, 'hello from an object');
});

test('a python function reads an object and a secret from its env', { skip }, async () => {
  const secret = await p.api.inject({ method: 'POST', url: '/api/secrets', headers: alice, payload: { name: 'api_token', value: 's3cr3t-value' } });
  assert.equal(secret.statusCode, 201, secret.body);
  const pyFn = await deploy(alice, 'py-reader', 'python', PROBE_PYTHON, { secrets: ['api_token'] });
  await putObject(alice, pyFn, 'data.json', '{"n": 42}');
  const result = await invoke(alice, pyFn, { paths: [`/${pyFn}/data.json`, `/${bobFn}/secret.txt`] });
  assert.deepEqual(result.out[`/${pyFn}/data.json`], { status: 200, body: '{"n": 42}' });
  assert.equal(result.out[`/${bobFn}/secret.txt`].status, 404);
  assert.equal(result.token, 's3cr3t-value');
});

test('the channel only answers while an execution is in flight', { skip }, async () => {
  const lateFn = await deploy(alice, 'late', 'node', `
import { readFileSync, writeFileSync } from 'node:fs';
export async function handler(event) {
  if (event.phase === 'read') return readFileSync('/tmp/late.json', 'utf8');
  setTimeout(async () => {
    const res = await fetch(process.env.API_BASE_URL + '/' + event.fn + '/note.txt');
    writeFileSync('/tmp/late.json', JSON.stringify({ status: res.status, body: await res.text() }));
  }, 300);
  return 'scheduled';
}`);
  await putObject(alice, lateFn, 'note.txt', 'only during executions');
  assert.equal(await invoke(alice, lateFn, { phase: 'start', fn: lateFn }), 'scheduled');
  await sleep(1500);
  const late = JSON.parse(await invoke(alice, lateFn, { phase: 'read' }));
  assert.equal(late.status, 403);
  assert.doesNotMatch(late.body, /only during executions/);
});
