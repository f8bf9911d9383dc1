/**
 * What a function learns of the host from its mount table: the mount sources of /proc/self/mountinfo
 * (the "root" field of a bind mount is its host path) must not reveal where the platform is installed,
 * where its data lives, or its temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

const repo = path.resolve(import.meta.dirname, '../../../..');

const READERS = {
  node: `import fs from 'node:fs'; import os from 'node:os'; import dns from 'node:dns/promises';
export const handler = async () => ({ mountinfo: fs.readFileSync('/proc/self/mountinfo', 'utf8'), mounts: fs.readFileSync('/proc/self/mounts', 'utf8'), user: os.userInfo().username, host: (await dns.lookup('sandbox', { family: 4 })).address });`,
  python: `import grp, os, pwd, socket
def handler(event, context):
    return {"mountinfo": open("/proc/self/mountinfo").read(), "mounts": open("/proc/self/mounts").read(), "user": pwd.getpwuid(os.getuid()).pw_name, "group": grp.getgrgid(os.getgid()).gr_name, "host": socket.gethostbyname("sandbox")}
`,
};

/** File systems the sandbox makes itself; their roots are their own, not host paths. */
const OWN_FILE_SYSTEMS = new Set(['tmpfs', 'proc', 'devpts', 'mqueue']);

/** The host paths that binds may come from: system directories, and the neutral work dir (docs/sandbox.md). */
function allowedSource(root: string, fsType: string): boolean {
  if (OWN_FILE_SYSTEMS.has(fsType)) return true;
  if (fsType === 'devtmpfs') return /^\/(null|zero|full|random|urandom|tty)$/.test(root);
  if (root === '/usr' || root.startsWith('/usr/') || root.startsWith('/etc/')) return true;
  // Only root gets the neutral default; another uid's work dir is under its TMPDIR (docs/sandbox.md).
  return process.getuid?.() === 0 ? root.startsWith('/var/lib/skyscale-sandboxes/') : root.startsWith(path.join(os.tmpdir(), `skyscale-sandboxes-${process.getuid?.()}/`));
}

test('a function reading /proc/self/mountinfo sees no host path of the platform', { skip: sandboxSkipReason(), timeout: 30_000 }, async () => {
  const p = await testPlatform({ WARM_POOL_SIZE: '0' });
  try {
    const { auth } = await p.user('mole');
    const hostPaths = [repo, realpathSync(repo), p.dataDir, realpathSync(p.dataDir)];
    if (process.getuid?.() === 0) hostPaths.push(`${os.tmpdir()}/`, `${realpathSync(os.tmpdir())}/`);
    for (const [runtime, code] of Object.entries(READERS)) {
      const deployed = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: `mounts-${runtime}`, runtime, code } });
      assert.equal(deployed.statusCode, 201, deployed.body);
      const run = (await p.api.inject({ method: 'POST', url: `/api/functions/name/mounts-${runtime}/invoke`, headers: auth, payload: {} })).json();
      assert.equal(run.status, 'succeeded', JSON.stringify(run).slice(0, 1000));
      const { mountinfo, mounts, ...names } = run.result as { mountinfo: string; mounts: string; user: string; group?: string; host: string };
      // The stub passwd, group and hosts still answer (symlinks into the runtime dir, not binds).
      assert.deepEqual(names, { user: 'sandbox', ...(runtime === 'python' ? { group: 'sandbox' } : {}), host: '127.0.0.1' });
      for (const line of mountinfo.trim().split('\n')) {
        // id parent major:minor root mountpoint options [optional fields] - fstype source super-options
        const [before, after] = line.split(' - ');
        const root = before.split(' ')[3];
        const fsType = after.split(' ')[0];
        assert.ok(allowedSource(root, fsType), `${runtime}: a mount from a host path: ${line}`);
        for (const hostPath of hostPaths) {
          if (!OWN_FILE_SYSTEMS.has(fsType)) assert.ok(!root.startsWith(hostPath), `${runtime}: ${hostPath} shows in ${line}`);
          assert.ok(!after.includes(hostPath), `${runtime}: ${hostPath} shows in the options of ${line}`);
        }
      }
      for (const hostPath of [repo, p.dataDir]) assert.ok(!mounts.includes(hostPath), `${runtime}: ${hostPath} shows in /proc/self/mounts`);
    }
  } finally {
    await p.close();
  }
});
