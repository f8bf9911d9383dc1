import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable } from '../../src/config/prerequisites.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';
import { startSkyscale } from '../helpers/server-process.ts';
import { destroyAllRaw, openRaw, rawRequest, type RawConnection } from '../helpers/raw-client.ts';

// Issue 11, points 1 and 4: at its descriptor limit the platform died (EMFILE in the load sampler's
// read of its own memory). Here the platform runs with a limit of 256 descriptors and caps far above
// it, so a flood of idle connections really exhausts them: it must refuse new connections, keep
// serving the open ones, and serve new ones once the flood ends.
const NOFILE = 256;
const skip = sandboxSkipReason() || (findExecutable('prlimit') === undefined || findExecutable('setsid') === undefined ? 'SKIPPED: prlimit and setsid (util-linux) are not installed' : false);

const HEALTH = { api: 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n', gateway: 'GET /_skyscale/healthz HTTP/1.1\r\nhost: x\r\n\r\n' };

/** Launchers waiting for a sandbox to exec: the platform's python children still running the launcher script. */
function waitingLaunchers(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
  return children.filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('os.execv');
    } catch {
      return false;
    }
  }).length;
}

async function signUp(url: string): Promise<string> {
  const user = { username: 'flooder', password: 'correct horse battery' };
  const post = (path: string) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
  assert.equal((await post('/auth/register')).status, 201);
  return `Bearer ${((await (await post('/auth/login')).json()) as { token: string }).token}`;
}

async function deploy(url: string, auth: string, name: string): Promise<string> {
  const res = await fetch(`${url}/api/functions`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ name, runtime: 'node', code: 'export const handler = () => 42;' }) });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
}

test('out of file descriptors, the platform refuses new connections, keeps serving open ones and recovers', { skip }, async (t) => {
  const server = await startSkyscale(
    // Stem cells keep the load sampler ticking (every 100 ms) through the flood.
    { WARM_POOL_SIZE: '1', LOAD_SAMPLE_INTERVAL_MS: '100', HTTP_MAX_CONNECTIONS: '100000', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '100000', HTTP_KEEPALIVE_TIMEOUT_MS: '60000' },
    // Its own session: a platform that signalled its process group (kill(0)) would not take this test runner with it.
    { wrap: ['setsid', 'prlimit', `--nofile=${NOFILE}`, '--'], captureOutput: true },
  );
  const ports = { api: server.port, gateway: Number(new URL(server.gatewayUrl).port) };
  const flood: RawConnection[] = [];
  try {
    const auth = await signUp(server.url);
    const warm = await deploy(server.url, auth, 'warm');
    const cold = await deploy(server.url, auth, 'cold');
    const duringFlood = await deploy(server.url, auth, 'during-flood');
    const invokeRequest = (id: string): string => `POST /api/functions/${id}/invoke HTTP/1.1\r\nhost: x\r\nauthorization: ${auth}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}`;
    const existing = { api: await openRaw(ports.api), gateway: await openRaw(ports.gateway) };
    for (const plane of ['api', 'gateway'] as const) assert.equal((await rawRequest(existing[plane], HEALTH[plane])).status, 200);
    assert.match((await rawRequest(existing.api, invokeRequest(warm))).body, /"status":"succeeded"/);

    flood.push(...(await Promise.all(Array.from({ length: 2 * NOFILE }, (_, i) => openRaw(i % 2 === 0 ? ports.gateway : ports.api)))));
    const fds = readdirSync(`/proc/${server.child.pid}/fd`).length;
    assert.ok(fds >= NOFILE - 2, `the flood reached the limit (${fds} descriptors open)`);
    // Long enough for many sampler ticks and accepts at the limit; on a loaded machine, until the sampler has met the limit.
    await sleep(1500);
    for (let i = 0; i < 60 && !server.output().includes("reading the platform's own memory failed"); i++) await sleep(100);
    assert.equal(server.child.exitCode, null, 'the platform is still running');
    for (const plane of ['api', 'gateway'] as const) assert.equal((await rawRequest(existing[plane], HEALTH[plane])).status, 200, `${plane}: an open connection is still served`);
    assert.match((await rawRequest(existing.api, invokeRequest(warm))).body, /"status":"succeeded"/, 'a warm function still runs');
    // A cold start takes the stem cell and a launcher, whose refills then fail for want of descriptors.
    const coldDuringFlood = await rawRequest(existing.api, invokeRequest(duringFlood), 15_000);
    t.diagnostic(`a cold start during the flood: ${coldDuringFlood.status} ${/"status":"[a-z_]+"/.exec(coldDuringFlood.body)?.[0]}`);
    // It may find a stem cell and run, or fail as the platform's fault: an execution either way, not an error of the API.
    assert.equal(coldDuringFlood.status, 200, coldDuringFlood.body);
    assert.match(coldDuringFlood.body, /"status":"(succeeded|system_error)"/);
    await sleep(1000);
    assert.equal(server.child.exitCode, null, 'the platform is still running after refills failed');

    for (const c of flood) c.socket.destroy();
    await sleep(500);
    for (const plane of ['api', 'gateway'] as const) {
      const fresh = await openRaw(ports[plane]);
      assert.equal((await rawRequest(fresh, HEALTH[plane])).status, 200, `${plane}: a new connection is served after the flood`);
      fresh.socket.destroy();
    }
    const started = await fetch(`${server.url}/api/functions/${cold}/invoke`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '{}' });
    assert.equal((await started.json()).status, 'succeeded', 'a new instance starts after the flood');
    // The launchers whose refills failed during the flood come back (SANDBOX_LAUNCHERS, default 2).
    let launchers = 0;
    for (let i = 0; i < 50 && (launchers = waitingLaunchers(server.child.pid!)) < 2; i++) await sleep(100);
    assert.equal(launchers, 2, 'pre-admitted launchers are ready again');
    assert.equal(server.child.exitCode, null);
    const warnings = server.output().split('\n').filter((line) => /EMFILE|too many open files|descriptor/i.test(line));
    t.diagnostic(`${fds} descriptors open during the flood; ${warnings.length} warning lines: ${warnings.map((w) => (JSON.parse(w) as { msg: string }).msg).join(' | ')}`);
    // The sampler ticked ~25 times at the limit: it says so once per spell (a descriptor freed by the flood's churn may end one).
    const sampler = warnings.filter((line) => line.includes("reading the platform's own memory failed")).length;
    assert.ok(sampler >= 1 && sampler <= 3, `the sampler said so ${sampler} times:\n${warnings.join('\n')}`);
    for (const c of Object.values(existing)) c.socket.destroy();
  } finally {
    destroyAllRaw();
    await server.stop();
  }
});
