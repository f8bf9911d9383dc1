/** `skyscale serve --role`: parsed and validated before anything starts; what distributed mode needs is named. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const bin = new URL('../../bin/skyscale.js', import.meta.url).pathname;

function serve(args: string[], env: Record<string, string> = {}) {
  const { SKYSCALE_ROLES: _unset, DATABASE_URL: _db, NATS_URL: _nats, SECRETS_KEY: _key, JWT_SECRET: _jwt, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [bin, 'serve', ...args], { env: { ...inherited, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stderr: result.stderr };
}

test('a role without its database, bus and shared keys names each, and exits 1 without a stack trace', () => {
  const { code, stderr } = serve(['--role', 'worker,control', '--role', 'gateway']);
  assert.equal(code, 1);
  assert.match(stderr, /--role control,gateway,worker needs DATABASE_URL .*; NATS_URL .*; SECRETS_KEY .*; JWT_SECRET /);
  assert.doesNotMatch(stderr, /\n\s+at /);
});

test('SKYSCALE_ROLES is the default of --role', () => {
  assert.match(serve([], { SKYSCALE_ROLES: 'worker' }).stderr, /--role worker needs DATABASE_URL/);
});

test('an unknown role or a bad distributed setting is a configuration error naming it', () => {
  const unknown = serve(['--role', 'api']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'error: CONFIG: Invalid configuration: --role must name roles among control, gateway, worker (comma-separated or repeated), got "api"\n');
  assert.match(serve(['--role', 'worker'], { MIN_WORKERS: '5', MAX_WORKERS: '3' }).stderr, /^error: CONFIG: Invalid configuration: MAX_WORKERS must be at least MIN_WORKERS \(5\), got 3\n$/);
});

test('a stop while PostgreSQL is unreachable ends the retrying and exits 0', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [bin, 'serve', '--role', 'control'], {
    env: { ...process.env, SKYSCALE_ROLES: '', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', NATS_URL: 'nats://127.0.0.1:1', SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'), JWT_SECRET: 'x'.repeat(40), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 15_000;
  while (!/not reachable.*retrying/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /PostgreSQL at 127\.0\.0\.1:1 is not reachable.*retrying in/);
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, out);
  assert.doesNotMatch(out, /\n\s+at /);
});
