/** serveUntilStopped in a child process: how it exits on signals, on a hung close and on its parent's death. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

const serve = new URL('../../src/cli/serve.ts', import.meta.url).href;

/** A child that "serves" (keeps its event loop alive) until serveUntilStopped ends it. */
function child(options: { closeMs: number | null; startMs?: number }) {
  const close = options.closeMs === null ? 'new Promise(() => {})' : `new Promise((r) => setTimeout(r, ${options.closeMs}))`;
  const script = `
    import { serveUntilStopped } from ${JSON.stringify(serve)};
    setInterval(() => {}, 1000);
    await serveUntilStopped(async () => {
      process.stdout.write('starting\\n');
      await new Promise((r) => setTimeout(r, ${options.startMs ?? 0}));
      return { close: () => { process.stderr.write('closing\\n'); return ${close}; } };
    }, { stopBoundMs: 500 });`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  /** Once start() runs, the signal handlers are in place. */
  const starting = once(proc.stdout, 'data');
  const exited = once(proc, 'exit').then(([code]) => ({ code: code as number, stderr }));
  return { proc, starting, exited };
}

test('SIGTERM closes and exits 0; further signals change nothing', async () => {
  const c = child({ closeMs: 200 });
  await c.starting;
  c.proc.kill('SIGTERM');
  c.proc.kill('SIGINT');
  c.proc.kill('SIGTERM');
  const { code, stderr } = await c.exited;
  assert.equal(code, 0);
  // Pending signals are delivered lowest number first: SIGINT may come before the first SIGTERM.
  assert.match(stderr, /^SIG(TERM|INT): shutting down\nclosing\n$/);
});

test('a close that hangs is cut off at the bound with exit code 1', async () => {
  const c = child({ closeMs: null });
  await c.starting;
  const begun = Date.now();
  c.proc.kill('SIGINT');
  const { code, stderr } = await c.exited;
  assert.equal(code, 1);
  assert.match(stderr, /^SIGINT: shutting down\nclosing\nstill stopping after 500 ms: exiting now\n$/);
  assert.ok(Date.now() - begun < 3000);
});

test('a signal during start-up stops the server as soon as it is up', async () => {
  const c = child({ closeMs: 0, startMs: 250 });
  await c.starting;
  c.proc.kill('SIGTERM');
  const { code, stderr } = await c.exited;
  assert.equal(code, 0);
  assert.equal(stderr, 'SIGTERM: shutting down\nclosing\n');
});

test('it stops when its parent process dies', async () => {
  // sh starts the child in the background and exits at once: the child is reparented.
  const script = `import { serveUntilStopped } from ${JSON.stringify(serve)}; setInterval(() => {}, 1000); await serveUntilStopped(async () => ({ close: async () => { process.stderr.write('closing\\n'); } }), { stopBoundMs: 500 });`;
  const sh = spawn('/bin/sh', ['-c', `"$0" --input-type=module -e "$1" & echo $!; sleep 1`, process.execPath, script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  sh.stderr.on('data', (d) => (stderr += d));
  const pid = Number(String((await once(sh.stdout, 'data'))[0]).trim());
  await once(sh, 'exit');
  const deadline = Date.now() + 5000;
  while (isRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(isRunning(pid), false, 'the orphaned child stopped');
  assert.match(stderr, /^parent process \d+ exited: shutting down\nclosing\n$/);
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
