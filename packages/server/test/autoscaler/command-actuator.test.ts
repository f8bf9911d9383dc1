/** The command actuator running real shell commands. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommandActuator } from '../../src/autoscaler/actuators/command.ts';
import { captureLog } from './log-capture.ts';

function tempDir(t: { after: (fn: () => unknown) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skyscale-command-actuator-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the command gets the count and the reason in its environment; current() is the last count that succeeded', async (t) => {
  const dir = tempDir(t);
  const out = path.join(dir, 'workers');
  const { log, messages } = captureLog();
  const actuator = new CommandActuator({ log, command: `printf '%s %s' "$SKYSCALE_DESIRED_WORKERS" "$SKYSCALE_SCALE_REASON" > '${out}'` });
  assert.equal(await actuator.current(), null, 'unknown before the first run');
  await actuator.scaleTo(5, 'scale_up');
  assert.equal(readFileSync(out, 'utf8'), '5 scale_up');
  assert.equal(await actuator.current(), 5);
  await actuator.scaleTo(4, 'scale_down');
  assert.equal(readFileSync(out, 'utf8'), '4 scale_down');
  assert.equal(await actuator.current(), 4);
  assert.ok(messages('info').includes('autoscaler: AUTOSCALER_COMMAND ran for 4 workers'));
});

test('{n} is not substituted: the environment is the only channel', async (t) => {
  const dir = tempDir(t);
  const out = path.join(dir, 'literal');
  const actuator = new CommandActuator({ log: captureLog().log, command: `echo '{n}' > '${out}'` });
  await actuator.scaleTo(3, 'scale_up');
  assert.equal(readFileSync(out, 'utf8'), '{n}\n');
});

test('a non-zero exit is a failure with the tail of stderr, and current() keeps the last success', async () => {
  const { log, lines } = captureLog();
  const actuator = new CommandActuator({ log, command: 'if [ "$SKYSCALE_DESIRED_WORKERS" -gt 6 ]; then echo "quota exceeded" >&2; exit 3; fi' });
  await actuator.scaleTo(6, 'scale_up');
  await assert.rejects(actuator.scaleTo(9, 'scale_up'), /AUTOSCALER_COMMAND exited with code 3: quota exceeded/);
  assert.equal(await actuator.current(), 6);
  const warn = lines.find((l) => l.level === 40)!;
  assert.deepEqual([warn.desired, warn.code, warn.stderr], [9, 3, 'quota exceeded']);
});

test('a command that outlives its timeout is stopped, with what it started, and fails', async (t) => {
  const dir = tempDir(t);
  const late = path.join(dir, 'late');
  const actuator = new CommandActuator({ log: captureLog().log, command: `sleep 5; touch '${late}'`, timeoutMs: 200 });
  const began = Date.now();
  await assert.rejects(actuator.scaleTo(2, 'clamp_min'), /did not finish within 200 ms/);
  assert.ok(Date.now() - began < 3000, 'it did not wait for the sleep');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(!existsSync(late));
  assert.equal(await actuator.current(), null);
});
