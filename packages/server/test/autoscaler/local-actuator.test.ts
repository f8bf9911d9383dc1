/** The local actuator with real child processes: a worker stand-in that drains on SIGTERM (fixtures/). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalActuator, SKYSCALE_BIN, type LocalWorkerExit } from '../../src/autoscaler/actuators/local.ts';
import { captureLog, until } from './log-capture.ts';

const STAND_IN = path.join(import.meta.dirname, 'fixtures', 'worker-stand-in.js');

function setup(env: Record<string, string> = {}, drainTimeoutMs = 5000) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-local-actuator-'));
  const { log, lines, messages } = captureLog();
  const exits: LocalWorkerExit[] = [];
  const actuator = new LocalActuator({
    log, args: [STAND_IN], env: { ...process.env, MARKER_DIR: dir, ...env }, idPrefix: 'test', drainTimeoutMs, output: 'ignore',
    onExit: (e) => exits.push(e),
  });
  const started = (id: string) => (existsSync(path.join(dir, `${id}.started`)) ? (JSON.parse(readFileSync(path.join(dir, `${id}.started`), 'utf8')) as { id: string; pid: number }) : undefined);
  const drained = (id: string) => existsSync(path.join(dir, `${id}.drained`));
  return { dir, log, lines, messages, exits, actuator, started, drained, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('the default command is this checkout\'s `skyscale serve --role worker`', () => {
  assert.ok(existsSync(SKYSCALE_BIN), SKYSCALE_BIN);
  assert.equal(path.relative(path.resolve(import.meta.dirname, '../..'), SKYSCALE_BIN), path.join('bin', 'skyscale.js'));
});

test('scaleTo(3) starts three workers with distinct WORKER_IDs; scaleTo(1) drains the two newest; a death is noticed', async (t) => {
  const s = setup();
  t.after(async () => { await s.actuator.stop(); s.cleanup(); });

  await s.actuator.scaleTo(3, 'scale_up');
  assert.equal(await s.actuator.current(), 3);
  const ids = ['test-1', 'test-2', 'test-3'];
  const infos = await Promise.all(ids.map((id) => until(() => s.started(id), 10_000, `${id} to start`)));
  assert.deepEqual(infos.map((i) => i.id), ids, 'each process saw its own WORKER_ID');
  assert.equal(new Set(infos.map((i) => i.pid)).size, 3, 'three processes');
  assert.deepEqual(s.actuator.workers().map((w) => [w.id, w.state]), ids.map((id) => [id, 'running']));

  await s.actuator.scaleTo(1, 'scale_down');
  assert.equal(await s.actuator.current(), 1, 'the drained ones are counted out at once');
  assert.deepEqual(s.actuator.workers().filter((w) => w.state === 'draining').map((w) => w.id).sort(), ['test-2', 'test-3']);
  await s.actuator.settled();
  assert.deepEqual(s.exits.map((e) => [e.id, e.code, e.signal, e.expected, e.killed]).sort(), [['test-2', 0, null, true, false], ['test-3', 0, null, true, false]]);
  assert.ok(s.drained('test-2') && s.drained('test-3'), 'both finished their job in flight before exiting');
  assert.ok(!s.drained('test-1'), 'the oldest keeps running');
  assert.deepEqual(s.actuator.workers().map((w) => w.id), ['test-1']);

  process.kill(infos[0].pid, 'SIGKILL');
  await until(() => s.exits.length === 3, 10_000, 'the death to be noticed');
  assert.deepEqual([s.exits[2].id, s.exits[2].signal, s.exits[2].expected], ['test-1', 'SIGKILL', false]);
  assert.equal(await s.actuator.current(), 0, 'counted out');
  assert.ok(s.messages('error').some((m) => /worker test-1 exited unexpectedly/.test(m)), s.messages().join('\n'));

  await s.actuator.scaleTo(2, 'clamp_min');
  const fresh = await Promise.all(['test-4', 'test-5'].map((id) => until(() => s.started(id), 10_000, `${id} to start`)));
  assert.equal(fresh.length, 2, 'a new worker gets a new id, never a drained or dead one\'s');
  await s.actuator.stop();
  assert.equal(await s.actuator.current(), 0);
  assert.ok(s.drained('test-4') && s.drained('test-5'), 'stop() drains');
  await assert.rejects(s.actuator.scaleTo(1, 'scale_up'), /stopped/);
});

test('a worker that ignores SIGTERM is killed after the drain timeout', async (t) => {
  const s = setup({ IGNORE_SIGTERM: '1' }, 300);
  t.after(async () => { await s.actuator.stop(); s.cleanup(); });
  await s.actuator.scaleTo(1, 'scale_up');
  await until(() => s.started('test-1'), 10_000, 'the worker to start');
  const began = Date.now();
  await s.actuator.scaleTo(0, 'scale_down');
  await s.actuator.settled();
  assert.ok(Date.now() - began >= 250, 'it was given the drain timeout');
  assert.deepEqual([s.exits[0].signal, s.exits[0].expected, s.exits[0].killed], ['SIGKILL', true, true]);
  assert.ok(s.messages('warn').some((m) => /SIGKILL/.test(m)));
});

test('a worker that cannot start rejects scaleTo and is not counted', async () => {
  const { log, messages } = captureLog();
  const actuator = new LocalActuator({ log, command: '/nonexistent/skyscale', args: [], idPrefix: 'gone', output: 'ignore' });
  await assert.rejects(actuator.scaleTo(2, 'clamp_min'), /2 of 2 workers did not start: .*ENOENT/);
  assert.equal(await actuator.current(), 0);
  assert.ok(messages('error').some((m) => /could not be started/.test(m)));
  await actuator.stop();
});
