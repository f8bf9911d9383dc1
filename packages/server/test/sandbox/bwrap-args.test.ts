import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildBwrapArgs, SANDBOX_PATHS } from '../../src/sandbox/process/bwrap-args.ts';

const args = buildBwrapArgs({
  features: { tmpfsSize: true, disableUserns: true },
  runtimeDir: '/srv/runtime',
  codeDir: '/srv/instances/x/code',
  servicesDir: '/srv/instances/x/services',
  extraReadOnly: [{ host: '/opt/node/bin', inside: SANDBOX_PATHS.node }],
  network: false,
  tmpSizeBytes: 1024,
  env: { PATH: '/usr/bin', SECRET: 'v' },
  blockFd: 5,
  infoFd: 6,
  seccompFd: 7,
  command: ['/opt/skyscale/node/node', 'boot.mjs'],
});

/** `--opt a b` triples as "a -> b" for readable assertions. */
function binds(flag: string): string[] {
  const found: string[] = [];
  args.forEach((arg, i) => {
    if (arg === flag) found.push(`${args[i + 1]} -> ${args[i + 2]}`);
  });
  return found;
}

test('every namespace is unshared, including network, and the sandbox dies with the host', () => {
  for (const flag of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session', '--as-pid-1', '--clearenv']) assert.ok(args.includes(flag), flag);
  assert.ok(!args.includes('--share-net'));
});

test('only a minimal read-only view of the host is bound; nothing writable but the tmpfs mounts', () => {
  assert.deepEqual(binds('--bind'), []);
  assert.deepEqual(binds('--dev-bind'), []);
  const readOnly = [...binds('--ro-bind'), ...binds('--ro-bind-try')].map((b) => b.split(' -> ')[0]!);
  for (const source of readOnly) {
    assert.ok(!['/', '/etc', '/root', '/home', '/work', '/var', '/etc/shadow', '/etc/ssl/private'].includes(source), `binds ${source}`);
  }
  assert.ok(binds('--ro-bind').includes('/srv/instances/x/code -> /code'));
  assert.ok(binds('--ro-bind').includes('/srv/instances/x/services -> /run/skyscale'));
  assert.ok(binds('--ro-bind').includes('/opt/node/bin -> /opt/skyscale/node'));
  // The stub /etc files are symlinks into the runtime dir: no more host paths in the mount table.
  for (const stub of ['passwd', 'group', 'hosts']) assert.ok(binds('--symlink').includes(`/opt/skyscale/runtime/etc/${stub} -> /etc/${stub}`), stub);
  assert.ok(!readOnly.some((source) => source.startsWith('/srv/runtime/etc')));
  const tmpfsAt = args.indexOf('--tmpfs', args.indexOf('/dev/shm') + 1);
  assert.deepEqual(args.slice(tmpfsAt - 2, tmpfsAt + 2), ['--size', '1024', '--tmpfs', '/tmp']);
  assert.ok(args.join(' ').includes('--remount-ro / '), 'the root is remounted read-only');
});

test('the environment is exactly the one given, and the command comes last', () => {
  assert.deepEqual(binds('--setenv'), ['PATH -> /usr/bin', 'SECRET -> v']);
  assert.deepEqual(args.slice(-3), ['--', '/opt/skyscale/node/node', 'boot.mjs']);
  assert.deepEqual(args.slice(args.indexOf('--block-fd'), args.indexOf('--block-fd') + 6), ['--block-fd', '5', '--info-fd', '6', '--seccomp', '7']);
});
