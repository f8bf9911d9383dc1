/**
 * `npm start` under a process manager: whichever process of the chain gets SIGTERM or SIGINT (npm, or
 * the server it runs), and if npm itself is killed, the server stops, frees its ports and leaves no
 * process behind — sandboxes included.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { descendantsOf } from '../../src/sandbox/process/process-tree.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';
import { freePort } from '../helpers/server-process.ts';

const repo = path.resolve(import.meta.dirname, '../../../..');
// npm runs the scripts with the first `node` on PATH: this Node 24.
const PATH = `${path.dirname(process.execPath)}:${process.env.PATH}`;

function skipReason(): string | false {
  if (spawnSync('npm', ['--version'], { env: { ...process.env, PATH } }).status !== 0) {
    const reason = 'SKIPPED: npm is not on PATH — install Node.js with npm to test `npm start`';
    console.warn(`\n*** ${reason} ***\n`);
    return reason;
  }
  return sandboxSkipReason();
}

/** pid + start time: a pid reused by another process is not a survivor. */
interface Identity {
  pid: number;
  startTime: string;
  command: string;
}

function stat(pid: number): { state: string; ppid: number; startTime: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), startTime: fields[19]! };
  } catch {
    return null;
  }
}

function identify(pid: number): Identity | null {
  const s = stat(pid);
  if (s === null) return null;
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  return { pid, startTime: s.startTime, command };
}

/** Still running: same process, and not a zombie waiting for a lazy init to reap it. */
function alive(p: Identity): boolean {
  const s = stat(p.pid);
  return s !== null && s.startTime === p.startTime && s.state !== 'Z';
}

function killNow(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

interface Started {
  npm: ChildProcess;
  ports: number[];
  dataDir: string;
  /** The server (node) process: npm's child. */
  server: Identity;
  tree: Identity[];
}

async function npmStart(): Promise<Started> {
  const ports = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(path.join(tmpdir(), 'skyscale-stop-'));
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: repo,
    env: { ...process.env, PATH, PORT: String(ports[0]), GATEWAY_PORT: String(ports[1]), DATA_DIR: dataDir, WARM_POOL_SIZE: '1', SANDBOX_LAUNCHERS: '1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const treeOf = () => descendantsOf(npm.pid!).map(identify).filter((p): p is Identity => p !== null);
  try {
    await until('the control API', () => fetch(`http://127.0.0.1:${ports[0]}/healthz`).then((r) => r.ok, () => false), 30_000);
    // The stem cells are sandboxes of their own: wait for them, so the tree includes them.
    await until('sandboxed stem cells', () => treeOf().filter((p) => /(^|\/)bwrap /.test(p.command)).length >= 2, 15_000);
    const tree = treeOf();
    const server = tree.find((p) => stat(p.pid)?.ppid === npm.pid && /^\S*node \S*skyscale\.js serve$/.test(p.command));
    assert.ok(server, `npm's child is the server itself (\`exec\` in the start script): ${JSON.stringify(tree.map((p) => p.command))}`);
    return { npm, ports, dataDir, server, tree: [identify(npm.pid!)!, ...tree] };
  } catch (err) {
    for (const p of [...treeOf(), identify(npm.pid!)]) if (p) killNow(p.pid);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function assertStops(started: Started, signal: () => void, label: string): Promise<number> {
  const begun = Date.now();
  signal();
  try {
    await until(`${label}: every process of the tree to exit`, () => started.tree.every((p) => !alive(p)), 12_000);
    await until(`${label}: the ports to be free`, async () => (await Promise.all(started.ports.map(portFree))).every(Boolean), 2_000);
    return Date.now() - begun;
  } catch (err) {
    const survivors = started.tree.filter(alive);
    for (const p of survivors) killNow(p.pid);
    throw new Error(`${(err as Error).message}; survivors: ${JSON.stringify(survivors.map((p) => p.command))}`);
  } finally {
    rmSync(started.dataDir, { recursive: true, force: true });
  }
}

describe('stopping `npm start`', { skip: skipReason() }, () => {
  const cases: Array<[string, (s: Started) => void]> = [
    ['SIGTERM to npm', (s) => process.kill(s.npm.pid!, 'SIGTERM')],
    ['SIGINT to npm', (s) => process.kill(s.npm.pid!, 'SIGINT')],
    ['SIGTERM to the server (node)', (s) => process.kill(s.server.pid, 'SIGTERM')],
    ['SIGKILL to npm: the server notices its parent is gone', (s) => process.kill(s.npm.pid!, 'SIGKILL')],
  ];
  for (const [label, signal] of cases) {
    test(`${label}: the ports are freed and no process of the tree is left`, async (t) => {
      const started = await npmStart();
      const ms = await assertStops(started, () => signal(started), label);
      t.diagnostic(`${label}: stopped in ${ms} ms (${started.tree.length} processes)`);
    });
  }
});
