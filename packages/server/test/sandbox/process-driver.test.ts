/** Process-driver specifics beyond the shared suite: probe, opt-out, cgroup placement, limits, cleanup. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SandboxUnavailableError, type CgroupCapabilities } from '../../src/sandbox/driver.ts';
import { ProcessDriver } from '../../src/sandbox/process/process-driver.ts';
import { runtimeSkip, sandboxSkipReason, testDriverOptions } from '../helpers/sandbox.ts';
import { descendantsOf } from '../../src/sandbox/process/process-tree.ts';
import { assertNothingSurvives, expectOk, handlerFor, Harness, snapshotProcesses } from './harness.ts';
import { BOOT_CPU_QUOTA_PERCENT } from '../../src/sandbox/limits.ts';

const hasBwrap = sandboxSkipReason() === false;
const workDir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-driver-test-'));
// mkdtemp makes it 0700; sandboxed processes run as other uids and must be able to reach into it.
chmodSync(workDir, 0o711);
after(() => rmSync(workDir, { recursive: true, force: true }));

describe('process driver without bubblewrap', () => {
  test('refuses to start untrusted code unless the operator opted out', async () => {
    const driver = new ProcessDriver({ ...testDriverOptions(), workDir: path.join(workDir, 'refuse'), bwrapPath: '/nonexistent/bwrap', cgroupName: 'skyscale-test' });
    const caps = await driver.probe();
    assert.equal(caps.isolation, 'none');
    assert.equal(caps.usable, false);
    assert.match(caps.warnings.join('\n'), /bubblewrap/);
    await assert.rejects(driver.start({ id: 'refused', runtime: 'node', limits: { memoryMb: 128 } }), (err: Error) => err instanceof SandboxUnavailableError && /SANDBOX=none/.test(err.message));
  });

  test('a work directory sandbox uids cannot reach is reported, and start says why', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('per-instance uids need root');
    const hidden = mkdtempSync(path.join(os.tmpdir(), 'skyscale-hidden-'));
    try {
      const driver = new ProcessDriver({ ...testDriverOptions(), workDir: path.join(hidden, 'work'), cgroupName: 'skyscale-test' });
      const caps = await driver.probe();
      assert.equal(caps.usable, false);
      assert.match(caps.warnings.join('\n'), /not reachable by sandbox uids/);
      await assert.rejects(driver.start({ id: 'unreachable', runtime: 'python', limits: { memoryMb: 64 } }), /not reachable by sandbox uids/);
    } finally {
      rmSync(hidden, { recursive: true, force: true });
    }
  });

  test('with SANDBOX=none it runs the same bootstrap unsandboxed, with a loud warning', async () => {
    const warnings: string[] = [];
    const driver = new ProcessDriver({ ...testDriverOptions(), workDir: path.join(workDir, 'none'), bwrapPath: '/nonexistent/bwrap', allowUnsandboxed: true, cgroupName: 'skyscale-test', logger: { warn: (m) => warnings.push(m) } });
    const harness = await Harness.create(driver);
    try {
      const cases = ([['node', 'env'], ['python', 'env'], ['php', 'env'], ['command', 'env.py']] as const).filter(([runtime]) => !runtimeSkip(runtime));
      for (const [runtime, entry] of cases) {
        const instance = await harness.loaded(runtime, entry, { env: { ONLY: 'this' } });
        const env = expectOk(await harness.invoke(instance)) as Record<string, string>;
        assert.equal(env.ONLY, 'this');
        assert.equal(env.JWT_SECRET, undefined);
        const processes = await snapshotProcesses(instance);
        await instance.kill('done');
        await assertNothingSurvives(instance, processes);
      }
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /SANDBOX=none.*WITHOUT isolation/);
    } finally {
      await harness.close();
    }
  });
});

describe('process driver with bubblewrap', { skip: hasBwrap ? false : 'bubblewrap is not installed' }, () => {
  let driver: ProcessDriver;
  let harness: Harness;
  before(async () => {
    driver = new ProcessDriver({ ...testDriverOptions(), workDir: path.join(workDir, 'bwrap'), cgroupName: 'skyscale-test' });
    harness = await Harness.create(driver);
  });
  after(() => harness.close());

  test('probe reports bubblewrap, the cgroup controllers and the runtimes', async () => {
    const caps = await driver.probe();
    assert.equal(caps.driver, 'process');
    assert.equal(caps.isolation, 'bubblewrap');
    assert.equal(caps.usable, true);
    assert.equal(caps.bwrap?.userNamespaces, true);
    assert.match(caps.bwrap?.version ?? '', /^\d+\.\d+/);
    assert.match(caps.runtimes.node?.version ?? '', /^v24\./);
    assert.match(caps.runtimes.python?.version ?? '', /^3\./);
    assert.ok(!caps.runtimes.python?.path.includes('pyenv'), 'the real interpreter, not a shim');
    // wasm runs in the Node bootstrap and command functions are spawned by the Python one.
    assert.deepEqual(caps.runtimes.wasm, caps.runtimes.node);
    assert.deepEqual(caps.runtimes.command, caps.runtimes.python);
    if (caps.runtimes.php) assert.match(caps.runtimes.php.version, /^\d+\.\d+/);
    else assert.ok(caps.warnings.some((w) => /php runtime unavailable/.test(w)), 'a missing php-cli is reported');
    if (caps.cgroup.memory) assert.equal(caps.memoryLimit, 'cgroup');
    assert.ok(await driver.probe() === caps, 'probing twice is free');
  });

  test('every process of the instance is in its cgroup', async (t) => {
    if (!(await driver.probe()).cgroup.memory) return t.skip('no writable cgroups on this host');
    const instance = await harness.loaded('python', 'count');
    const inGroup = new Set(await instance.processes());
    const tree = descendantsOf(instance.pid!);
    assert.ok(tree.length >= 2, `bwrap and the runtime, got ${tree}`);
    assert.deepEqual(tree.filter((pid) => !inGroup.has(pid)), []);
  });

  test('a CPU quota throttles a busy handler', async (t) => {
    if (!(await driver.probe()).cgroup.cpu) return t.skip('no cpu cgroup on this host');
    const instance = await harness.loaded('node', 'spin', { limits: { cpuQuotaPercent: 20 } });
    const before = (await instance.stats()).cpuMs;
    expectOk(await harness.invoke(instance, { ms: 1000 }));
    const used = (await instance.stats()).cpuMs - before;
    assert.ok(used < 500, `used ${used} ms of CPU in 1 s of wall time under a 20% quota`);
    assert.equal((await instance.stats()).cpuLimitCores, 0.2, 'stats report the quota the CPU utilisation is measured against');
  });

  test('stats count block I/O per instance where the host accounts it (blkio / io.stat)', async (t) => {
    if (!(await driver.probe()).cgroup.io) return t.skip('no block I/O accounting on this host');
    const instance = await harness.loaded('python', 'count');
    const stats = await instance.stats();
    assert.equal(stats.source, 'cgroup');
    assert.equal(typeof stats.ioBytes, 'number', JSON.stringify(stats));
  });

  test('/tmp is capped at tmpSizeMb', async () => {
    const instance = await harness.loaded('python', 'fill_tmp', { limits: { tmpSizeMb: 4 } });
    assert.match(String(expectOk(await harness.invoke(instance, { bytes: 8 * 1024 * 1024 }))), /No space left on device/);
  });

  test('the runtime holds no file descriptors but stdio and the protocol channel', async () => {
    const instance = await harness.loaded('python', 'fds');
    const fds = expectOk(await harness.invoke(instance)) as number[];
    assert.deepEqual(fds.slice(0, 5), [0, 1, 2, 3, 4]);
    assert.ok(fds.length <= 6, `open fds: ${fds}`); // + the one listing /proc/self/fd
  });

  test('command: no file descriptor of the host reaches the command the runtime spawns', async () => {
    const command = expectOk(await harness.invoke(await harness.loaded('command', 'fds.py'))) as number[];
    assert.deepEqual(command, [0, 1, 2, 3]); // 3: the listing of /proc/self/fd itself
  });

  test('php: no file descriptor of the host reaches the runtime', { skip: runtimeSkip('php') }, async () => {
    const php = expectOk(await harness.invoke(await harness.loaded('php', 'fds'))) as Record<string, string | false>;
    const extra = Object.entries(php).filter(([fd, target]) => Number(fd) > 4 && target !== false && !target.startsWith('socket:') && !target.endsWith('/bootstrap.php'));
    assert.deepEqual(extra, [], JSON.stringify(php));
  });

  test('seccomp refuses kernel interfaces functions have no use for; ordinary calls work', async (t) => {
    if (!(await driver.probe()).seccomp) return t.skip('no seccomp filter for this architecture');
    const instance = await harness.loaded('python', 'syscalls');
    assert.deepEqual(expectOk(await harness.invoke(instance)), {
      getpid: 'ok',
      keyctl: 'Operation not permitted',
      io_uring_setup: 'Function not implemented',
      unshare: 'Operation not permitted',
      ptrace: 'Operation not permitted',
    });
  });

  test('load narrows the limits of a stem cell, and cannot widen them', async () => {
    const stem = await harness.stem('python', { memoryMb: 256 });
    const load = { codeDir: harness.codeDirs.python, handler: 'main.memory_bomb', env: {}, functionName: 'f', functionVersion: '1', deadlineMs: Date.now() + 5000 };
    await assert.rejects(stem.load({ ...load, limits: { memoryMb: 512 } }), RangeError);
    assert.equal(stem.state, 'stem');
    assert.equal((await stem.load({ ...load, limits: { memoryMb: 64 } })).kind, 'loaded');
    const outcome = await harness.invoke(stem, null, 10_000);
    assert.equal(outcome.kind, 'oom');
    assert.equal(outcome.kind === 'oom' ? outcome.memoryMb : 0, 64);
  });

  test('network: true gives the instance the host network', async () => {
    const server = net.createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const instance = await driver.start({ id: 'with-network', runtime: 'node', limits: { memoryMb: 128 }, network: true });
      const loaded = await instance.load({ codeDir: harness.codeDirs.node, handler: 'index.connect', env: {}, functionName: 'f', functionVersion: '1', deadlineMs: Date.now() + 5000 });
      assert.equal(loaded.kind, 'loaded');
      assert.equal(expectOk(await harness.invoke(instance, { port: (server.address() as net.AddressInfo).port })), 'connected');
      await instance.kill('done');
    } finally {
      server.close();
    }
  });

  test('killing an instance removes its cgroups and its directories', async () => {
    const instance = await harness.loaded('node', 'count');
    const caps = await driver.probe();
    const name = `${process.pid}-${instance.id}`;
    const groupDirs = Object.values(caps.cgroup.parents).filter((parent) => existsSync(path.join(parent, name)));
    assert.equal(groupDirs.length > 0, caps.cgroup.memory);
    await instance.kill('cleanup test');
    for (const parent of Object.values(caps.cgroup.parents)) assert.ok(!existsSync(path.join(parent, name)), `${parent}/${name} is left`);
    assert.ok(!readdirSync(path.join(workDir, 'bwrap', 'instances')).includes(name));
  });
});

/** The CPU quota (percent of a core) of one of the driver's groups, null when it has none. */
function groupQuota(caps: CgroupCapabilities, group: string): number | null {
  if (caps.version === 2) {
    const [quota, period] = readFileSync(path.join(caps.parents.unified!, group, 'cpu.max'), 'utf8').trim().split(' ');
    return quota === 'max' ? null : (100 * Number(quota)) / Number(period);
  }
  const quota = Number(readFileSync(path.join(caps.parents.cpu!, group, 'cpu.cfs_quota_us'), 'utf8'));
  return quota < 0 ? null : (100 * quota) / Number(readFileSync(path.join(caps.parents.cpu!, group, 'cpu.cfs_period_us'), 'utf8'));
}

/** The name of the driver's group a process is in (its cpu group on v1). */
function groupOf(caps: CgroupCapabilities, pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const line = caps.version === 2 ? lines.find((l) => l.startsWith('0::'))! : lines.find((l) => l.split(':')[1]?.split(',').includes('cpu'))!;
  return path.basename(line.slice(line.lastIndexOf(':') + 1));
}

describe('process driver with pre-admitted launchers', { skip: hasBwrap ? false : 'bubblewrap is not installed' }, () => {
  test("the CPU quota a stem cell boots under is its group's, and load sets the function's (from a launcher or not)", async (t) => {
    const dir = path.join(workDir, 'quota');
    const driver = new ProcessDriver({ ...testDriverOptions(), workDir: dir, cgroupName: 'skyscale-test', launchers: 1 });
    const probed = await driver.probe();
    const caps = probed.cgroup;
    if (!caps.cpu || probed.runtimes.python === undefined) {
      await driver.close();
      return t.skip('needs a cpu cgroup and Python (for launchers)');
    }
    const harness = await Harness.create(driver);
    const waitForLauncher = async () => {
      for (let i = 0; i < 200 && (await driver.readyLaunchers()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(await driver.readyLaunchers(), 1);
    };
    try {
      await waitForLauncher();
      // One takes the launcher, the other finds none ready and spawns.
      const stems = await Promise.all([harness.stem('node', { cpuQuotaPercent: 100 }), harness.stem('python', { cpuQuotaPercent: 100 })]);
      assert.equal(stems.filter((s) => groupOf(caps, s.pid!).includes('-launcher-')).length, 1);
      for (const [stem, quota] of [[stems[0], 30], [stems[1], 150]] as const) {
        assert.equal(groupQuota(caps, groupOf(caps, stem.pid!)), 100, `${stem.id} boots under its start quota`);
        const load = { codeDir: harness.codeDirs[stem.runtime], handler: handlerFor(stem.runtime, 'count'), env: {}, functionName: 'f', functionVersion: '1', deadlineMs: Date.now() + 5000 };
        assert.equal((await stem.load({ ...load, limits: { memoryMb: 128, cpuQuotaPercent: quota } })).kind, 'loaded');
        assert.equal(groupQuota(caps, groupOf(caps, stem.pid!)), quota, `${stem.id}: the function's quota, lower or higher than the boot's`);
        assert.equal((await stem.stats()).cpuLimitCores, quota / 100);
      }
      // A launcher waiting to be taken is held to the boot quota too.
      await waitForLauncher();
      const idle = readdirSync(path.join(dir, 'instances')).filter((name) => name.startsWith(`${process.pid}-launcher-`) && !stems.some((s) => groupOf(caps, s.pid!) === name));
      assert.equal(idle.length, 1);
      assert.equal(groupQuota(caps, idle[0]!), BOOT_CPU_QUOTA_PERCENT);
    } finally {
      await harness.close();
      await driver.close();
    }
  });

  test('instances start from launchers (then on demand when none is left), in their cgroup; close stops the idle ones', async (t) => {
    const dir = path.join(workDir, 'launchers');
    const driver = new ProcessDriver({ ...testDriverOptions(), workDir: dir, cgroupName: 'skyscale-test', launchers: 1 });
    const caps = await driver.probe();
    if (!caps.cgroup.memory || caps.runtimes.python === undefined) {
      await driver.close();
      return t.skip('launchers need a memory cgroup and Python');
    }
    const harness = await Harness.create(driver);
    const launcherDirs = () => readdirSync(path.join(dir, 'instances')).filter((name) => name.startsWith(`${process.pid}-launcher-`));
    const waitForLauncher = async () => {
      for (let i = 0; i < 200 && (await driver.readyLaunchers()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(await driver.readyLaunchers(), 1);
    };
    try {
      await waitForLauncher();
      // The first takes the launcher, the second finds none ready and spawns.
      const [fromLauncher, onDemand] = await Promise.all([harness.loaded('python', 'count'), harness.loaded('node', 'count')]);
      for (const instance of [fromLauncher, onDemand]) {
        expectOk(await harness.invoke(instance, null));
        const inGroup = new Set(await instance.processes());
        const tree = descendantsOf(instance.pid!);
        assert.ok(tree.length >= 2, `bwrap and the runtime, got ${tree}`);
        assert.deepEqual(tree.filter((pid) => !inGroup.has(pid)), [], `${instance.id}: every process in the instance's cgroup`);
      }
      // The pool refills; the launcher's own group and directories become the next instance's.
      await waitForLauncher();
      const idle = launcherDirs();
      assert.equal(idle.length, 2, `the used launcher's dirs belong to a live instance, plus a fresh one: ${idle}`);
      await fromLauncher.kill('done');
      await onDemand.kill('done');
    } finally {
      await harness.close();
      await driver.close();
    }
    assert.deepEqual(launcherDirs(), [], 'closing the driver removes the idle launcher');
    const groups = Object.values(caps.cgroup.parents).flatMap((parent) => readdirSync(parent).filter((name) => name.startsWith(`${process.pid}-launcher-`)).map((name) => `${parent}/${name}`));
    assert.deepEqual(groups, [], 'and its cgroups');
  });
});
