/**
 * A distributed Skyscale on this machine for the tests: a throwaway PostgreSQL database, a real
 * nats-server with JetStream, and `skyscale serve --role …` processes, each with a DATA_DIR of its own
 * (so code and objects must cross through the cluster, as between machines). `clusterSkip` is why it
 * cannot run here, printed once and loudly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { natsUnavailable, startNatsServer, type NatsServer } from './nats.ts';
import { postgresDatabase, postgresSkip } from './postgres.ts';
import { freePort, skyscaleBin } from './server-process.ts';

const why = postgresSkip || natsUnavailable();
export const clusterSkip: string | false = why ? `distributed-mode tests skipped: ${why}` : false;
if (clusterSkip) console.error(`\n!!! ${clusterSkip}\n`);

export interface RoleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url?: string;
  readonly gatewayUrl?: string;
  /** What it wrote to stdout and stderr (its log lines). */
  output(): string;
  /** SIGTERM and wait for its exit (SIGKILL after `ms`). */
  stop(ms?: number): Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

export interface TestCluster {
  readonly nats: NatsServer;
  readonly databaseUrl: string;
  /** The environment every role process of this cluster starts from. */
  readonly env: Record<string, string>;
  start(name: string, roles: string, env?: Record<string, string>): Promise<RoleProcess>;
  /** Waits until `n` workers are ready in the registry, seen through `controlUrl` with the admin key. */
  waitForWorkers(controlUrl: string, adminKey: string, n: number, timeoutMs?: number): Promise<void>;
  dispose(): Promise<void>;
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs: number, proc?: RoleProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc !== undefined && proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode} before ${what}:\n${proc.output()}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${proc ? `\n${proc.output()}` : ''}`);
}

export async function startCluster(env: Record<string, string> = {}): Promise<TestCluster> {
  const nats = await startNatsServer();
  const databaseUrl = await postgresDatabase();
  const base: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    NATS_URL: nats.url,
    SECRETS_KEY: randomBytes(32).toString('base64'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    WARM_POOL_SIZE: '1',
    HEARTBEAT_INTERVAL_MS: '250',
    LEASE_TIMEOUT: '3s',
    REAPER_INTERVAL: '500ms',
    ...env,
  };
  const processes: RoleProcess[] = [];
  const dirs: string[] = [];
  return {
    nats,
    databaseUrl,
    env: base,
    async start(name, roles, extra = {}) {
      const dataDir = mkdtempSync(path.join(tmpdir(), `skyscale-${name}-`));
      dirs.push(dataDir);
      const port = await freePort();
      const gatewayPort = await freePort();
      const child = spawn(process.execPath, [skyscaleBin, 'serve', '--role', roles], {
        env: { ...process.env, SKYSCALE_ROLES: '', ...base, PORT: String(port), GATEWAY_PORT: String(gatewayPort), DATA_DIR: dataDir, WORKER_ID: name, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d));
      child.stderr!.on('data', (d: Buffer) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const has = (role: string): boolean => roles.split(',').includes(role);
      const proc: RoleProcess = {
        name,
        child,
        url: has('control') ? `http://127.0.0.1:${port}` : undefined,
        gatewayUrl: has('gateway') ? `http://127.0.0.1:${gatewayPort}` : undefined,
        output: () => output,
        exited,
        kill: (signal) => void child.kill(signal),
        stop: async (ms = 10_000) => {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill('SIGCONT');
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), ms);
          const code = await exited;
          clearTimeout(timer);
          return code;
        },
      };
      processes.push(proc);
      if (proc.url) await waitUntil(async () => (await fetch(`${proc.url}/healthz`)).ok, `${name}'s API answering`, 30_000, proc);
      if (proc.gatewayUrl) await waitUntil(async () => (await fetch(`${proc.gatewayUrl}/_skyscale/healthz`)).ok, `${name}'s gateway answering`, 30_000, proc);
      return proc;
    },
    async waitForWorkers(controlUrl, adminKey, n, timeoutMs = 30_000) {
      await waitUntil(async () => {
        const res = await fetch(`${controlUrl}/api/v1/workers`, { headers: { authorization: `Bearer ${adminKey}` } });
        const body = (await res.json()) as { workers: Array<{ state: string; roles: string[] }> };
        return body.workers.filter((w) => w.state === 'ready' && w.roles.includes('worker')).length >= n;
      }, `${n} workers ready`, timeoutMs);
    },
    async dispose() {
      await Promise.all(processes.map((p) => p.stop(5_000)));
      await nats.dispose();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}
