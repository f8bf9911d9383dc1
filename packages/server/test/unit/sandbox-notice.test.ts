import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sandboxNotice } from '../../src/config/prerequisites.ts';
import type { SandboxCapabilities } from '../../src/sandbox/driver.ts';

const base: SandboxCapabilities = {
  driver: 'process', isolation: 'bubblewrap', usable: true, bwrap: { path: '/usr/bin/bwrap', version: '0.8.0', userNamespaces: true },
  uidPerInstance: true, seccomp: true,
  cgroup: { version: 1, parents: {}, memory: true, pids: true, cpu: true, cpuAccounting: true, io: true, freezer: true },
  memoryLimit: 'cgroup', pidsLimit: 'cgroup', cpuLimit: 'cgroup', runtimes: {}, warnings: [],
};

test('sandboxed: nothing to say', () => {
  assert.equal(sandboxNotice(base, false), null);
  assert.equal(sandboxNotice(base, true), null, 'SANDBOX=none with a working bubblewrap still runs sandboxed');
});

test('bubblewrap missing, SANDBOX not set: functions cannot run, with the install command', () => {
  const notice = sandboxNotice({ ...base, isolation: 'none', usable: false, bwrap: null, warnings: ['bubblewrap (bwrap) is not installed'] }, false);
  assert.equal(notice?.level, 'error');
  assert.match(notice!.message, /^functions cannot run: bubblewrap \(bwrap\) is not installed\. Install it with `apt-get install -y bubblewrap` and restart/);
  assert.doesNotMatch(notice!.message, /WITHOUT isolation/);
});

test('bubblewrap installed but unable to make namespaces: says so instead of asking to install it', () => {
  const warnings = ['bubblewrap cannot create a sandbox here: bwrap: No permissions to create new namespace'];
  const notice = sandboxNotice({ ...base, isolation: 'none', usable: false, bwrap: { ...base.bwrap!, userNamespaces: false }, warnings }, false);
  assert.match(notice!.message, /^functions cannot run: bubblewrap cannot create a sandbox here: .*user namespaces/);
  assert.doesNotMatch(notice!.message, /apt-get/);
});

test('SANDBOX=none in effect: a warning that code runs without isolation', () => {
  const notice = sandboxNotice({ ...base, isolation: 'none', usable: true, bwrap: null, warnings: ['bubblewrap (bwrap) is not installed'] }, true);
  assert.equal(notice?.level, 'warn');
  assert.match(notice!.message, /^SANDBOX=none: bubblewrap \(bwrap\) is not installed, so function code runs WITHOUT isolation/);
});

test('a work dir sandbox uids cannot reach: functions cannot run, naming it', () => {
  const warnings = ['php runtime unavailable: no working /usr/bin/php (install php-cli)', '/srv/private/work is not reachable by sandbox uids (/srv/private is not searchable by others)'];
  const notice = sandboxNotice({ ...base, usable: false, warnings }, false);
  assert.equal(notice!.message, 'functions cannot run: /srv/private/work is not reachable by sandbox uids (/srv/private is not searchable by others)');
});
