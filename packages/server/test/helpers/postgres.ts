/**
 * A throwaway PostgreSQL 15 for the tests: one server per test process (initdb in a fresh temp dir, on a
 * free loopback port), a fresh database per call of postgresDatabase(), all removed when the process
 * exits. Without the binaries, `postgresSkip` is a reason to skip, printed once and loudly: never a silent pass.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort } from './server-process.ts';

const BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
const INSTALL = 'apt-get install postgresql (PostgreSQL 15, binaries in /usr/lib/postgresql/15/bin)';

/** Set when PostgreSQL cannot run here: pass it as `skip` to test()/describe(). */
export const postgresSkip: string | false = existsSync(path.join(BIN, 'initdb')) && existsSync(path.join(BIN, 'postgres')) ? false : `PostgreSQL binaries not found in ${BIN}: ${INSTALL}`;
if (postgresSkip) console.error(`\n!!! SKIPPING PostgreSQL tests: ${postgresSkip}\n`);

interface Server {
  port: number;
  dir: string;
  child: ChildProcess;
}

let server: Promise<Server> | null = null;

const asRoot = process.getuid?.() === 0;
/** PostgreSQL refuses to run as root: as root, initdb and the server run as the postgres user. */
const command = (bin: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(BIN, bin), ...args]] : [path.join(BIN, bin), args]);

async function start(): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-pg-'));
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  const data = path.join(dir, 'data');
  const [initCmd, initArgs] = command('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  // fsync=off and friends: for speed only. Nothing these tests check depends on surviving a power cut.
  const [cmd, args] = command('postgres', ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200']);
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.unref();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  process.once('exit', () => stopNow({ port, dir, child }));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    try {
      await client.connect();
      await client.end();
      return { port, dir, child };
    } catch (err) {
      await client.end().catch(() => {});
      if (child.exitCode !== null || Date.now() > deadline) {
        stopNow({ port, dir, child });
        throw new Error(`PostgreSQL did not start: ${String(err)}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function stopNow(s: Server): void {
  try {
    if (s.child.pid !== undefined) process.kill(-s.child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  // SIGKILL is not instant: the directory may still be in use for a moment.
  for (let i = 0; i < 20; i++) {
    try {
      rmSync(s.dir, { recursive: true, force: true });
      return;
    } catch {
      spawnSync('sleep', ['0.05']);
    }
  }
}

/** The server's base URL (without a database), started on first use. */
export async function postgresServer(): Promise<{ url: (database: string) => string }> {
  server ??= start();
  const { port } = await server;
  return { url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}` };
}

/** A new, empty database (t_<random>) and its URL. */
export async function postgresDatabase(): Promise<string> {
  const { url } = await postgresServer();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return url(name);
}

/** Stops the server now (the exit hook would anyway). */
export async function stopPostgres(): Promise<void> {
  if (server === null) return;
  const s = await server.catch(() => null);
  server = null;
  if (s !== null) stopNow(s);
}
