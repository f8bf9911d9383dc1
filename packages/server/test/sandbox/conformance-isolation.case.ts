/** What function code must not be able to see or touch. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, test } from 'node:test';
import { runtimeSkip } from '../helpers/sandbox.ts';
import { expectOk, type Harness } from './harness.ts';

/** Names the sandbox may set itself; everything else must come from the function's own env. */
const BASE_ENV = new Set(['PATH', 'HOME', 'LANG', 'TMPDIR', 'PWD']);

export function defineIsolationTests(h: () => Harness): void {
  describe('isolation', () => {
    const entries = { node: { env: 'env', connect: 'connect' }, python: { env: 'env', connect: 'connect' }, php: { env: 'env', connect: 'connect' }, command: { env: 'env.py', connect: 'connect.py' } };
    for (const runtime of ['node', 'python', 'php', 'command'] as const) {
      test(`${runtime}: the environment holds only the function's variables, nothing of the host`, { skip: runtimeSkip(runtime) }, async () => {
        process.env.SKYSCALE_TEST_CANARY = 'host-secret-canary';
        process.env.JWT_SECRET ??= 'host-jwt-secret-that-must-not-leak';
        try {
          const instance = await h().loaded(runtime, entries[runtime].env, { env: { GREETING: 'hi', API_URL: 'https://example.test' } });
          const env = expectOk(await h().invoke(instance)) as Record<string, string>;
          assert.equal(env.GREETING, 'hi');
          assert.equal(env.API_URL, 'https://example.test');
          const unexpected = Object.keys(env).filter((name) => !BASE_ENV.has(name) && name !== 'GREETING' && name !== 'API_URL');
          assert.deepEqual(unexpected, []);
          assert.equal(env.HOME, '/tmp');
          for (const value of Object.values(env)) {
            assert.doesNotMatch(value, /host-secret-canary|host-jwt-secret|\/root/);
          }
        } finally {
          delete process.env.SKYSCALE_TEST_CANARY;
        }
      });

      test(`${runtime}: cannot open a TCP connection to a port listening on the host's 127.0.0.1`, { skip: runtimeSkip(runtime) }, async () => {
        let accepted = 0;
        const server = net.createServer((socket) => {
          accepted++;
          socket.destroy();
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        try {
          const port = (server.address() as net.AddressInfo).port;
          const instance = await h().loaded(runtime, entries[runtime].connect);
          const result = expectOk(await h().invoke(instance, { port })) as string;
          assert.match(result, /^error:/);
          assert.equal(accepted, 0);
        } finally {
          server.close();
        }
      });
    }

    test('node: cannot read host secrets or the data dir, cannot write outside /tmp', async () => {
      const instance = await h().loaded('node', 'filesystem');
      // The platform's own checkout: not visible inside either.
      const r = expectOk(await h().invoke(instance, { canaryFile: h().canaryFile, canaryDir: h().canaryDir, hostDir: process.cwd() })) as Record<string, unknown>;
      assert.match(String(r.shadow), /^error:/);
      assert.match(String(r.canary), /^error:/);
      assert.match(String(r.canaryDir), /^error:/);
      assert.match(String(r.rootHome), /^error:/);
      assert.match(String(r.hostDir), /^error:/);
      for (const key of ['writeCode', 'writeUsr', 'writeEtc', 'writeRoot']) assert.match(String(r[key]), /^error:(EROFS|EACCES|EPERM|ENOENT)/, key);
      assert.equal(r.writeTmp, 'ok');
      assert.equal(r.readTmp, 'x');
      assert.doesNotMatch(JSON.stringify(r), new RegExp(h().canarySecret));
    });

    test('node: cannot signal host processes and sees only its own processes', async () => {
      const instance = await h().loaded('node', 'signals');
      const r = expectOk(await h().invoke(instance, { hostPid: process.pid })) as { kill: string; visible: number[]; ppid: number };
      assert.match(r.kill, /^error:(ESRCH|EPERM)$/);
      assert.ok(r.visible.length <= 4, `sandbox sees ${r.visible.length} processes`);
      assert.ok(!r.visible.includes(process.pid) || process.pid < 5);
      assert.ok(r.ppid < 5, `parent pid inside is ${r.ppid}`);
    });

    test('command: cannot read /etc/shadow or write /code; /tmp is writable', async () => {
      const command = expectOk(await h().invoke(await h().loaded('command', 'files.sh'))) as Record<string, string>;
      assert.doesNotMatch(command.shadow!, /root:/);
      assert.deepEqual([command.code, command.tmp], ['refused', 'wrote']);
    });

    test('php: cannot read /etc/shadow or write /code; /tmp is writable', { skip: runtimeSkip('php') }, async () => {
      const php = expectOk(await h().invoke(await h().loaded('php', 'fileAccess'), { canaryFile: h().canaryFile })) as Record<string, unknown>;
      assert.match(String(php.shadow), /^error:/);
      assert.match(String(php.canary), /^error:/);
      assert.match(String(php.writeCode), /^error:/);
      assert.equal(php.writeTmp, 1);
    });

    test('/tmp is private to each instance', async () => {
      const writer = await h().loaded('node', 'filesystem');
      expectOk(await h().invoke(writer, { canaryFile: '/nonexistent', canaryDir: '/nonexistent', hostDir: '/nonexistent' }));
      const reader = await h().loaded('node', 'filesystem');
      const r = expectOk(await h().invoke(reader, { canaryFile: '/tmp/planted.txt', canaryDir: '/nonexistent', hostDir: '/nonexistent' })) as Record<string, unknown>;
      assert.match(String(r.canary), /^error:ENOENT/);
    });
  });
}
