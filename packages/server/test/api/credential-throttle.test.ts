/**
 * Failed credentials (API keys, session tokens) are throttled per client address on every plane: the
 * control API and the gateway (api_key routes, /function/{name} with a key, stream upgrades) share one count.
 * The gateway's 401s carry the same RFC 6750 challenge as the control API's.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { LightMyRequestResponse } from 'fastify';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';

const MAX_FAILURES = 4;

let p: TestPlatform;
let jwt: Record<string, string>;
let key: string;
before(async () => {
  p = await testPlatform({ WARM_POOL_SIZE: '0', CREDENTIAL_MAX_FAILURES: String(MAX_FAILURES), CREDENTIAL_WINDOW_SECONDS: '60' });
  jwt = (await p.user('alice')).auth;
  key = (await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: jwt, payload: {} })).json().key;
  const deployed = await p.api.inject({ method: 'POST', url: '/api/functions', headers: jwt, payload: { name: 'guarded', runtime: 'node', code: 'export const handler = () => "in";', routes: [{ method: 'GET', path: '/guarded', auth: 'api_key' }] } });
  assert.equal(deployed.statusCode, 201, deployed.body);
});
after(() => p.close());

const me = (remoteAddress: string, headers: Record<string, string>) => p.api.inject({ method: 'GET', url: '/api/auth/me', headers, remoteAddress });

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  code: string | undefined;
}

const answer = (res: LightMyRequestResponse): Answer => ({ status: res.statusCode, headers: res.headers, code: errorCode(res) });

function assertThrottled(res: Answer, what: string): void {
  assert.equal(res.status, 429, what);
  assert.equal(res.code, 'RATE_LIMITED', what);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `${what}: Retry-After ${String(res.headers['retry-after'])}`);
}

test('control API: past the limit an address gets 429; a key already used from it, and other addresses, still work', async () => {
  const attacker = '10.11.0.1';
  assert.equal((await me(attacker, { 'x-api-key': key })).statusCode, 200, 'the key holder uses the address first');
  const wrong: Array<Record<string, string>> = [{ 'x-api-key': 'sk_wrong-1' }, { authorization: 'Bearer sk_wrong-2' }, { authorization: 'Bearer not.a.jwt' }, { 'x-api-key': 'sk_wrong-3' }];
  for (const headers of wrong) {
    const res = await me(attacker, headers);
    assert.equal(res.statusCode, 401, JSON.stringify(headers));
    assert.equal(errorCode(res), 'INVALID_TOKEN');
  }
  for (const headers of [{ 'x-api-key': 'sk_wrong-4' }, { authorization: 'Bearer not.a.jwt.either' }] as Array<Record<string, string>>) {
    const res = await me(attacker, headers);
    assertThrottled(answer(res), JSON.stringify(headers));
  }
  const metrics = await p.api.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer sk_wrong-5' }, remoteAddress: attacker });
  assertThrottled(answer(metrics), 'GET /metrics');

  assert.equal((await me(attacker, { 'x-api-key': key })).statusCode, 200, 'a key that authenticated from this address keeps working');
  const unseen = await me(attacker, jwt);
  assertThrottled(answer(unseen), 'a credential never used from the throttled address waits');

  const elsewhere = '10.11.0.2';
  assert.equal((await me(elsewhere, { 'x-api-key': 'sk_wrong-6' })).statusCode, 401, 'another address has its own count');
  assert.equal((await me(elsewhere, jwt)).statusCode, 200);
  // An IPv4-mapped IPv6 address is the same client as its IPv4 address.
  const mapped = await me(`::ffff:${attacker}`, { 'x-api-key': 'sk_wrong-7' });
  assertThrottled(answer(mapped), 'IPv4-mapped address');
});

test('a burst of concurrent guesses is held to the limit; a burst of one valid credential is not', async () => {
  const count = (statuses: number[]) => statuses.reduce<Record<number, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {});
  const guesses = await Promise.all(Array.from({ length: 60 }, (_, i) => me('10.11.0.3', { 'x-api-key': `sk_guess-${i}` })));
  assert.deepEqual(count(guesses.map((r) => r.statusCode)), { 401: MAX_FAILURES, 429: 60 - MAX_FAILURES });
  const legit = await Promise.all(Array.from({ length: 30 }, () => me('10.11.0.4', jwt)));
  assert.deepEqual(count(legit.map((r) => r.statusCode)), { 200: 30 });
});

/** A gateway request (or WebSocket upgrade) sent from `localAddress`, a loopback address of its own. */
function gateway(path: string, localAddress: string, headers: Record<string, string>, upgrade = false): Promise<Answer> {
  const url = new URL(p.gatewayUrl);
  const wsHeaders = upgrade ? { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } : {};
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, localAddress, headers: { ...headers, ...wsHeaders } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, code: JSON.parse(body).error?.code }));
    });
    req.on('upgrade', () => reject(new Error(`${path}: the upgrade was accepted`)));
    req.on('error', reject);
    req.end();
  });
}

test('gateway: wrong keys on an api_key route, /function/{name} and a stream upgrade count together, per address', async () => {
  const attacker = '127.0.0.21';
  const tries: Array<[string, boolean]> = [['/guarded', false], ['/function/guarded', false], ['/ws/guarded', true], ['/guarded', false]];
  for (const [path, upgrade] of tries) {
    const res = await gateway(path, attacker, { 'x-api-key': 'sk_wrong-gw' }, upgrade);
    assert.equal(res.status, 401, path);
    assert.equal(res.code, 'INVALID_TOKEN', path);
  }
  for (const [path, upgrade] of tries.slice(0, 3)) {
    const res = await gateway(path, attacker, { authorization: 'Bearer sk_wrong-gw' }, upgrade);
    assertThrottled(res, path);
  }
  // The control API counts the same failures: the address is throttled there too.
  const api = await me(attacker, { 'x-api-key': 'sk_wrong-api' });
  assertThrottled(answer(api), 'the control API');

  // A valid key from another address passes authentication (the function name is simply not there).
  const other = await gateway('/function/no-such-function', '127.0.0.22', { 'x-api-key': key });
  assert.equal(other.status, 404);
  assert.equal(other.code, 'NOT_FOUND');
  const blocked = await gateway('/function/no-such-function', attacker, { 'x-api-key': key });
  assertThrottled(blocked, 'a key never used from the throttled address');
});

test('gateway: a 401 carries the same challenge as the control API', async () => {
  const none = await gateway('/guarded', '127.0.0.23', {});
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="skyscale"');
  for (const [path, upgrade] of [['/guarded', false], ['/ws/guarded', true]] as const) {
    const wrong = await gateway(path, '127.0.0.23', { 'x-api-key': 'sk_wrong-challenge' }, upgrade);
    assert.equal(wrong.status, 401, path);
    assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="skyscale", error="invalid_token"', path);
  }
});
