/**
 * A host without bubblewrap, simulated with BWRAP_PATH: the server says that functions cannot run and
 * how to install it (never that code runs unsandboxed unless SANDBOX=none says so), and `npm test`
 * stops at once with the install line instead of failing test after test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { startSkyscale } from '../helpers/server-process.ts';

const repo = path.resolve(import.meta.dirname, '../../../..');
const missing = { BWRAP_PATH: '/nonexistent/bwrap', LOG_LEVEL: 'info', WARM_POOL_SIZE: '0' };

async function logLines(env: Record<string, string>): Promise<Array<{ level: number; msg: string }>> {
  const server = await startSkyscale(env, { captureOutput: true });
  await server.stop();
  // Not a terminal: one JSON object per line.
  return server.output().trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string });
}

const ERROR = 50;
const WARN = 40;

test('without bubblewrap the server logs that functions cannot run and how to install it', async () => {
  const lines = await logLines(missing);
  const notice = lines.find((l) => l.msg.startsWith('functions cannot run'));
  assert.ok(notice, JSON.stringify(lines.map((l) => l.msg)));
  assert.equal(notice.level, ERROR);
  assert.match(notice.msg, /bubblewrap \(bwrap\) is not installed.*apt-get install -y bubblewrap/);
  assert.equal(lines.filter((l) => /WITHOUT isolation/.test(l.msg)).length, 0, 'nothing claims that code runs unsandboxed');
});

test('with SANDBOX=none set it warns instead that function code runs without isolation', async () => {
  const lines = await logLines({ ...missing, SANDBOX: 'none' });
  const notice = lines.find((l) => /WITHOUT isolation/.test(l.msg));
  assert.ok(notice, JSON.stringify(lines.map((l) => l.msg)));
  assert.equal(notice.level, WARN);
  assert.match(notice.msg, /^SANDBOX=none: bubblewrap \(bwrap\) is not installed/);
  assert.equal(lines.filter((l) => l.msg.startsWith('functions cannot run')).length, 0);
});

test('npm test stops in its first second with the install line, running no test', () => {
  const started = Date.now();
  const run = spawnSync(process.execPath, [path.join(repo, 'scripts/test.js'), 'packages/server/test/unit'], { cwd: repo, env: { ...process.env, BWRAP_PATH: '/nonexistent/bwrap' }, encoding: 'utf8' });
  const elapsed = Date.now() - started;
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^npm test: bubblewrap \(bwrap\) is not installed at BWRAP_PATH=\/nonexistent\/bwrap\. Install it with `apt-get install -y bubblewrap`/);
  assert.doesNotMatch(run.stdout, /ℹ tests|# tests/);
  assert.ok(elapsed < 3000, `took ${elapsed} ms`);
});
