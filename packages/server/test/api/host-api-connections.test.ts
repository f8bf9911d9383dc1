import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { phpSkipReason, sandboxSkipReason } from '../helpers/sandbox.ts';

// Issue 11, point 1: functions that opened thousands of connections to API_BASE_URL made the platform
// hold a descriptor for each (3,006 for one function) until it died of EMFILE. The platform runs in
// this process, so its descriptors are /proc/self/fd.
const PER_INSTANCE = 8;
const PER_OWNER = 12;
const FLOOD = 1500;
const HOLD_MS = 1500;

/** Opens `n` connections to API_BASE_URL, holds them, and reports what came back on them. */
const FLOOD_NODE = `
import net from 'node:net';
export async function handler(event) {
  const port = Number(new URL(process.env.API_BASE_URL).port);
  const sockets = [];
  let refused = 0;
  await Promise.all(Array.from({ length: event.n }, () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    sockets.push(s);
    s.on('connect', resolve);
    s.on('error', resolve);
    s.on('data', (d) => { if (String(d).includes('TOO_MANY_CONNECTIONS')) refused++; });
  })));
  await new Promise((r) => setTimeout(r, event.holdMs));
  for (const s of sockets) s.destroy();
  return { refused };
}`;

const FLOOD_PYTHON = `
import os, socket, time

def handler(event, context):
    port = int(os.environ["API_BASE_URL"].rsplit(":", 1)[1])
    sockets = []
    for _ in range(event["n"]):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sockets.append(s)
    time.sleep(event["holdMs"] / 1000)
    for s in sockets:
        s.close()
    return {"refused": 0}
`;

const FLOOD_PHP = `<?php
function handler($event, $context) {
    $port = (int) substr(strrchr(getenv('API_BASE_URL'), ':'), 1);
    $sockets = [];
    for ($i = 0; $i < $event['n']; $i++) {
        $s = @stream_socket_client("tcp://127.0.0.1:{$port}", $errno, $error, 1, STREAM_CLIENT_CONNECT | STREAM_CLIENT_ASYNC_CONNECT);
        if ($s !== false) $sockets[] = $s;
    }
    usleep($event['holdMs'] * 1000);
    foreach ($sockets as $s) fclose($s);
    return ['refused' => 0];
}`;

const READER = `export async function handler(event, context) {
  const res = await fetch(process.env.API_BASE_URL + '/' + context.functionId + '/note.txt');
  return { status: res.status, text: await res.text() };
}`;

const skip = sandboxSkipReason();
const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

describe('host API connections are bounded per instance and per owner', { skip }, () => {
  let p: TestPlatform;
  let auth: Record<string, string>;
  const ids: Record<string, string> = {};

  const deploy = async (name: string, runtime: string, code: string): Promise<void> => {
    const res = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name, runtime, code } });
    assert.equal(res.statusCode, 201, res.body);
    ids[name] = res.json().id;
  };
  const invoke = async (name: string, event: object): Promise<{ refused: number; status?: number; text?: string }> => {
    const res = await p.api.inject({ method: 'POST', url: `/api/functions/${ids[name]}/invoke`, headers: auth, payload: event });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, 'succeeded', JSON.stringify(res.json().error));
    return res.json().result;
  };
  /** The most descriptors this process held while `work` ran, above what it held before. */
  const peakExtra = async (work: Promise<unknown>): Promise<number> => {
    const baseline = openDescriptors();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, openDescriptors())), 20);
    try {
      await work;
    } finally {
      clearInterval(sampler);
    }
    return peak - baseline;
  };

  before(async () => {
    p = await testPlatform({ HOST_API_MAX_CONNECTIONS_PER_INSTANCE: String(PER_INSTANCE), HOST_API_MAX_CONNECTIONS_PER_OWNER: String(PER_OWNER), WARM_POOL_SIZE: '0', SANDBOX_LAUNCHERS: '0' });
    auth = (await p.user('flooder')).auth;
    await deploy('flood-a', 'node', FLOOD_NODE);
    await deploy('flood-b', 'node', FLOOD_NODE);
    await deploy('flood-py', 'python', FLOOD_PYTHON);
    await deploy('reader', 'node', READER);
    const put = await p.api.inject({ method: 'PUT', url: `/api/function-objects/${ids.reader}/note.txt`, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'still here' });
    assert.equal(put.statusCode, 200, put.body);
    // Warm instances: a cold start's own descriptors are not what is measured.
    for (const name of ['flood-a', 'flood-b', 'flood-py', 'reader']) await invoke(name, { n: 0, holdMs: 0 });
  });
  after(() => p.close());

  test(`one instance opening ${FLOOD} connections costs the platform at most ${PER_INSTANCE} descriptors`, async (t) => {
    const extra = await peakExtra(invoke('flood-a', { n: FLOOD, holdMs: HOLD_MS }));
    t.diagnostic(`${extra} extra descriptors at the peak`);
    assert.ok(extra <= PER_INSTANCE + 4, `the platform held ${extra} extra descriptors`);
  });

  test('a python instance is held to the same bound', async (t) => {
    const extra = await peakExtra(invoke('flood-py', { n: 400, holdMs: HOLD_MS }));
    t.diagnostic(`${extra} extra descriptors at the peak`);
    assert.ok(extra <= PER_INSTANCE + 4, `the platform held ${extra} extra descriptors`);
  });

  test('php: the forked forwarder is held to the same bound', { skip: phpSkipReason() }, async (t) => {
    await deploy('flood-php', 'php', FLOOD_PHP);
    await invoke('flood-php', { n: 0, holdMs: 0 });
    const extra = await peakExtra(invoke('flood-php', { n: 400, holdMs: HOLD_MS }));
    t.diagnostic(`${extra} extra descriptors at the peak`);
    assert.ok(extra <= PER_INSTANCE + 4, `the platform held ${extra} extra descriptors`);
  });

  test(`two functions of one owner together hold at most ${PER_OWNER}; the excess is answered 429 TOO_MANY_CONNECTIONS`, async (t) => {
    let results: Array<{ refused: number }> = [];
    const extra = await peakExtra(Promise.all([invoke('flood-a', { n: FLOOD, holdMs: HOLD_MS }), invoke('flood-b', { n: FLOOD, holdMs: HOLD_MS })]).then((r) => (results = r)));
    t.diagnostic(`${extra} extra descriptors at the peak; ${results[0]!.refused + results[1]!.refused} connections refused`);
    // Held connections stay within the budget; a refused one holds a descriptor only until its 429 is written.
    assert.ok(extra <= PER_OWNER + PER_INSTANCE, `the platform held ${extra} extra descriptors`);
    assert.ok(results[0]!.refused + results[1]!.refused > 0, 'connections past the owner budget were refused with TOO_MANY_CONNECTIONS');
  });

  test('afterwards functions still read their objects and the API answers', async () => {
    assert.deepEqual(await invoke('reader', {}), { status: 200, text: 'still here' });
    assert.equal((await p.api.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });
});
