/** `skyscale serve --role`: parsed and validated, then refused honestly until distributed mode exists. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const bin = new URL('../../bin/skyscale.js', import.meta.url).pathname;

function serve(args: string[], env: Record<string, string> = {}) {
  const { SKYSCALE_ROLES: _unset, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [bin, 'serve', ...args], { env: { ...inherited, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stderr: result.stderr };
}

test('a role says distributed mode is not available yet and exits 1, naming the roles', () => {
  const { code, stderr } = serve(['--role', 'worker,control', '--role', 'gateway']);
  assert.equal(code, 1);
  assert.match(stderr, /^error: ROLES_UNAVAILABLE: --role control,gateway,worker: distributed mode is not available yet/);
});

test('SKYSCALE_ROLES is the default of --role', () => {
  assert.match(serve([], { SKYSCALE_ROLES: 'worker' }).stderr, /ROLES_UNAVAILABLE: --role worker:/);
});

test('an unknown role or a bad distributed setting is a configuration error naming it', () => {
  const unknown = serve(['--role', 'api']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'error: CONFIG: Invalid configuration: --role must name roles among control, gateway, worker (comma-separated or repeated), got "api"\n');
  assert.match(serve(['--role', 'worker'], { MIN_WORKERS: '5', MAX_WORKERS: '3' }).stderr, /^error: CONFIG: Invalid configuration: MAX_WORKERS must be at least MIN_WORKERS \(5\), got 3\n$/);
});
