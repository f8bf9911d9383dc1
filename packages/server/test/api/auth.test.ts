import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import type { InjectOptions } from 'fastify';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { testPlatform, errorCode, type TestPlatform } from '../helpers/platform.ts';

let p: TestPlatform;
before(async () => {
  p = await testPlatform({ LOGIN_MAX_ATTEMPTS: '3', LOGIN_WINDOW_SECONDS: '60' });
});
after(() => p.close());

test('the first user is admin, later ones are users; passwords are never returned', async () => {
  const first = await p.api.inject({ method: 'POST', url: '/auth/register', payload: { username: 'alice', password: 'alice-password' } });
  assert.equal(first.statusCode, 201);
  assert.equal(first.json().role, 'admin');
  assert.equal(first.json().username, 'alice');
  assert.ok(!first.body.includes('password'));
  const second = await p.api.inject({ method: 'POST', url: '/auth/register', payload: { username: 'bob', password: 'bob-password' } });
  assert.equal(second.json().role, 'user');
  const dup = await p.api.inject({ method: 'POST', url: '/auth/register', payload: { username: 'bob', password: 'other-password' } });
  assert.equal(dup.statusCode, 409);
  assert.equal(errorCode(dup), 'USERNAME_TAKEN');
});

test('registration validates usernames and passwords', async () => {
  for (const payload of [
    { username: 'x', password: 'long-enough-pw' },
    { username: "robert'); DROP TABLE users;--", password: 'long-enough-pw' },
    { username: '../etc/passwd', password: 'long-enough-pw' },
    { username: 'carol', password: 'short' },
    { username: 'carol' },
    { username: 'carol', password: 'long-enough-pw', role: 'admin' },
    { username: 42, password: 'long-enough-pw' },
  ]) {
    const res = await p.api.inject({ method: 'POST', url: '/auth/register', payload });
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(errorCode(res), 'VALIDATION_FAILED');
  }
});

test('login returns a JWT that authenticates; wrong passwords are 401 and then rate limited', async () => {
  await p.api.inject({ method: 'POST', url: '/auth/register', payload: { username: 'dave', password: 'dave-password' } });
  const ok = await p.api.inject({ method: 'POST', url: '/auth/login', payload: { username: 'dave', password: 'dave-password' } });
  assert.equal(ok.statusCode, 200);
  const { token, expiresAt } = ok.json();
  assert.ok(Date.parse(expiresAt) > Date.now());
  const me = await p.api.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
  assert.equal(me.json().username, 'dave');

  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const bad = await p.api.inject({ method: 'POST', url: '/auth/login', payload: { username: 'dave', password: 'wrong-password' } });
    statuses.push(bad.statusCode);
    if (bad.statusCode === 429) {
      assert.equal(errorCode(bad), 'RATE_LIMITED');
      assert.match(String(bad.headers['retry-after']), /^\d+$/);
    }
  }
  assert.deepEqual(statuses.slice(0, 3), [401, 401, 401]);
  assert.deepEqual(statuses.slice(3), [429, 429]);
  const unknownUser = await p.api.inject({ method: 'POST', url: '/auth/login', payload: { username: 'nobody-here', password: 'whatever-pw' }, remoteAddress: '10.9.9.9' });
  assert.equal(unknownUser.statusCode, 401);
  assert.equal(errorCode(unknownUser), 'INVALID_CREDENTIALS');
});

test('API keys: created once, stored as a hash, work as Bearer and X-API-Key, listed, revoked', async () => {
  const { auth } = await p.user('erin');
  const created = await p.api.inject({ method: 'POST', url: '/api/auth/api-key', headers: auth, payload: { name: 'ci' } });
  assert.equal(created.statusCode, 201);
  const { id, key, name } = created.json();
  assert.equal(name, 'ci');
  assert.match(key, /^sk_/);
  const db = readFileSync(path.join(p.dataDir, 'skyscale.db'));
  const wal = readFileSync(path.join(p.dataDir, 'skyscale.db-wal'));
  assert.ok(!db.includes(key) && !wal.includes(key), 'the raw key must not be stored');

  for (const headers of [{ authorization: `Bearer ${key}` }, { 'x-api-key': key }]) {
    const me = await p.api.inject({ method: 'GET', url: '/api/v1/auth/me', headers });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().username, 'erin');
  }
  const list = await p.api.inject({ method: 'GET', url: '/api/auth/api-keys', headers: auth });
  assert.deepEqual(list.json().items.map((k: { id: string }) => k.id), [id]);
  assert.ok(!list.body.includes(key));

  const { auth: other } = await p.user('frank');
  const foreign = await p.api.inject({ method: 'DELETE', url: `/api/auth/api-keys/${id}`, headers: other });
  assert.equal(foreign.statusCode, 404);
  const revoked = await p.api.inject({ method: 'DELETE', url: `/api/auth/api-keys/${id}`, headers: auth });
  assert.equal(revoked.statusCode, 204);
  const after = await p.api.inject({ method: 'GET', url: '/api/auth/me', headers: { 'x-api-key': key } });
  assert.equal(after.statusCode, 401);
  assert.equal(errorCode(after), 'INVALID_TOKEN');
});

test('users: admin lists everyone, a user sees only themself, another user is 404', async () => {
  const admin = await p.api.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'alice-password' } });
  const adminAuth = { authorization: `Bearer ${admin.json().token}` };
  const grace = await p.user('grace');
  const heidi = await p.user('heidi');
  const all = await p.api.inject({ method: 'GET', url: '/api/users', headers: adminAuth });
  assert.equal(all.statusCode, 200);
  assert.ok(all.json().items.some((u: { username: string }) => u.username === 'grace'));
  const denied = await p.api.inject({ method: 'GET', url: '/api/users', headers: grace.auth });
  assert.equal(denied.statusCode, 403);
  assert.equal((await p.api.inject({ method: 'GET', url: `/api/users/${grace.id}`, headers: grace.auth })).statusCode, 200);
  assert.equal((await p.api.inject({ method: 'GET', url: `/api/users/${heidi.id}`, headers: grace.auth })).statusCode, 404);
  assert.equal((await p.api.inject({ method: 'GET', url: `/api/users/${heidi.id}`, headers: adminAuth })).statusCode, 200);
});

test('tokens: none, malformed, alg:none, wrong key, expired and tampered are all 401', async () => {
  const { auth, id } = await p.user('ivan');
  const token = auth.authorization.slice('Bearer '.length);
  const [h, body, sig] = token.split('.');
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  const cases: Record<string, Record<string, string>> = {
    missing: {},
    notBearer: { authorization: `Basic ${token}` },
    garbage: { authorization: 'Bearer not.a.jwt' },
    algNone: { authorization: `Bearer ${enc({ alg: 'none', typ: 'JWT' })}.${enc({ ...claims, role: 'admin' })}.` },
    tamperedRole: { authorization: `Bearer ${h}.${enc({ ...claims, role: 'admin' })}.${sig}` },
    wrongKey: { authorization: `Bearer ${await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject(id).setIssuer('skyscale').setAudience('skyscale-api').setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(40)))}` },
    expired: { authorization: `Bearer ${await new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS256' }).setSubject(id).setIssuer('skyscale').setAudience('skyscale-api').setIssuedAt(Math.floor(Date.now() / 1000) - 3600).setExpirationTime(Math.floor(Date.now() / 1000) - 10).sign(new TextEncoder().encode(readFileSync(path.join(p.dataDir, 'keys', 'jwt-secret'), 'utf8').trim()))}` },
    unknownApiKey: { 'x-api-key': 'sk_doesnotexist' },
  };
  for (const [label, headers] of Object.entries(cases)) {
    const res = await p.api.inject({ method: 'GET', url: '/api/auth/me', headers });
    assert.equal(res.statusCode, 401, label);
    assert.ok(['UNAUTHENTICATED', 'INVALID_TOKEN'].includes(errorCode(res) ?? ''), label);
  }
  const expired = await p.api.inject({ method: 'GET', url: '/api/auth/me', headers: cases.expired });
  assert.match(expired.json().error.message, /expired/);
});

test('a token signed with the key is refused without exp, issued or valid only in the future, or older than the TTL', async () => {
  const { id } = await p.user('judy');
  const key = new TextEncoder().encode(readFileSync(path.join(p.dataDir, 'keys', 'jwt-secret'), 'utf8').trim());
  const now = Math.floor(Date.now() / 1000);
  const sign = (claims: { iat?: number; nbf?: number; exp?: number }) => {
    const jwt = new SignJWT({ role: 'user' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(id).setIssuer('skyscale').setAudience('skyscale-api');
    if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
    if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
    if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
    return jwt.sign(key);
  };
  const YEAR = 365 * 24 * 3600;
  const refused = {
    noExp: await sign({ iat: now }),
    noIat: await sign({ exp: now + 3600 }),
    iatNextYear: await sign({ iat: now + YEAR, exp: now + YEAR + 3600 }),
    nbfNextYear: await sign({ iat: now, nbf: now + YEAR, exp: now + YEAR + 3600 }),
    olderThanTtl: await sign({ iat: now - 25 * 3600, exp: now + YEAR }),
  };
  for (const [label, token] of Object.entries(refused)) {
    const res = await p.api.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 401, label);
    assert.equal(errorCode(res), 'INVALID_TOKEN', label);
  }
  // Another machine's clock may run a little ahead of this one.
  const skewed = await sign({ iat: now + 30, nbf: now + 30, exp: now + 3600 });
  const ok = await p.api.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${skewed}` } });
  assert.equal(ok.statusCode, 200, ok.body);
});

test('every 401 carries an RFC 6750 challenge: invalid_token when a credential was sent', async () => {
  const bare = 'Bearer realm="skyscale"';
  const invalid = 'Bearer realm="skyscale", error="invalid_token"';
  const cases: Array<[string, InjectOptions, string]> = [
    ['no credentials', { method: 'GET', url: '/api/functions' }, bare],
    ['no credentials, /metrics', { method: 'GET', url: '/metrics' }, bare],
    ['a wrong login', { method: 'POST', url: '/auth/login', payload: { username: 'nobody-at-all', password: 'whatever-pw' }, remoteAddress: '10.8.8.8' }, bare],
    ['a bad token', { method: 'GET', url: '/api/functions', headers: { authorization: 'Bearer not.a.jwt' } }, invalid],
    ['an unknown key', { method: 'GET', url: '/api/v1/functions', headers: { 'x-api-key': 'sk_unknown' } }, invalid],
    ['not Bearer', { method: 'GET', url: '/api/functions', headers: { authorization: 'Basic YTpi' } }, invalid],
  ];
  for (const [label, request, challenge] of cases) {
    const res = await p.api.inject(request);
    assert.equal(res.statusCode, 401, label);
    assert.equal(res.headers['www-authenticate'], challenge, label);
  }
});

test('SIGNUP=closed refuses registration once a user exists', async () => {
  const closed = await testPlatform({ SIGNUP: 'closed' });
  try {
    const first = await closed.api.inject({ method: 'POST', url: '/auth/register', payload: { username: 'root', password: 'root-password' } });
    assert.equal(first.statusCode, 201, 'the first (admin) user can always register');
    const second = await closed.api.inject({ method: 'POST', url: '/auth/register', payload: { username: 'late', password: 'late-password' } });
    assert.equal(second.statusCode, 403);
    assert.equal(errorCode(second), 'SIGNUP_CLOSED');
  } finally {
    await closed.close();
  }
});
