import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startSkyscale } from '../packages/server/test/helpers/server-process.ts';
import { benchClient } from './lib/api.ts';
import { wrk } from './lib/wrk.ts';

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const FLOOD_CLIENT = path.join(import.meta.dirname, 'lib/flood-client.ts');
/** Connections per flood process: well under this machine's descriptor limit per process. */
const PER_PROCESS = 8000;

const descriptorsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Opens `count` idle connections from `addresses` in child processes; resolves once they have settled. */
async function flood(port: number, count: number, addresses: string[]): Promise<{ stop: () => void }> {
  const children: ChildProcess[] = [];
  for (let left = count; left > 0; left -= PER_PROCESS) children.push(spawn(process.execPath, [FLOOD_CLIENT, String(port), String(Math.min(left, PER_PROCESS)), addresses.join(',')], { stdio: ['pipe', 'pipe', 'inherit'] }));
  await Promise.all(children.map((child) => new Promise((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))));
  return { stop: () => children.forEach((child) => child.stdin!.end()) };
}

/**
 * Issue 11's attacks against the platform with its default limits: idle connections from one address
 * and from many, and functions of one owner opening thousands of connections to API_BASE_URL. For each:
 * what the platform kept open, its descriptors, and what a well-behaved client gets meanwhile.
 */
export async function benchFlood(seconds: number): Promise<string[]> {
  const lines = ['| attack | connections attempted | platform descriptors (over baseline) | gateway healthz from a new client meanwhile: req/s (wrk -c10) | p99 ms | errors |', '|---|---|---|---|---|---|'];
  const sky = await startSkyscale({ WARM_POOL_SIZE: '1' });
  const gatewayPort = Number(new URL(sky.gatewayUrl).port);
  const pid = sky.child.pid!;
  const healthz = () => wrk(`${sky.gatewayUrl}/_skyscale/healthz`, { connections: 10, seconds: Math.min(seconds, 5) });
  const baseline = descriptorsOf(pid);
  const row = (attack: string, attempted: string, fds: number, served: ReturnType<typeof wrk>) =>
    lines.push(`| ${attack} | ${attempted} | ${fds} (+${fds - baseline}) | ${fmt(served.requestsPerSec, 0)} | ${fmt(served.p99Ms)} | ${served.errors === 0 ? 0 : `${served.errors}: ${served.errorKinds}`} |`);
  try {
    row('none (baseline)', '—', baseline, healthz());
    for (const [attack, addresses] of [['20,000 idle connections from one address', ['127.0.0.2']], ['20,000 idle connections from 80 addresses', Array.from({ length: 80 }, (_, i) => `127.0.1.${i + 1}`)]] as const) {
      const attempt = await flood(gatewayPort, 20_000, [...addresses]);
      row(attack, '20000', descriptorsOf(pid), healthz());
      attempt.stop();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const { client } = await benchClient(sky.url);
    const code = `import net from 'node:net';
export async function handler(event) {
  const port = Number(new URL(process.env.API_BASE_URL).port);
  const sockets = await Promise.all(Array.from({ length: event.n }, () => new Promise((resolve) => { const s = net.connect(port, '127.0.0.1'); s.on('error', () => {}); s.on('connect', () => resolve(s)); })));
  await new Promise((r) => setTimeout(r, event.holdMs));
  for (const s of sockets) s.destroy();
  return sockets.length;
}`;
    const fns = await Promise.all(Array.from({ length: 5 }, (_, i) => client.createFunction({ name: `flood-${i}`, runtime: 'node', code, timeoutMs: 60_000 })));
    await Promise.all(fns.map((fn) => client.invoke({ id: fn.id }, { n: 0, holdMs: 0 })));
    let peak = descriptorsOf(pid);
    const watch = setInterval(() => (peak = Math.max(peak, descriptorsOf(pid))), 50);
    const running = Promise.all(fns.map((fn) => client.invoke({ id: fn.id }, { n: 4500, holdMs: (Math.min(seconds, 5) + 3) * 1000 })));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const served = healthz();
    await running;
    clearInterval(watch);
    row('5 functions of one owner, 4,500 connections each to API_BASE_URL (peak)', '22500', peak, served);
  } finally {
    await sky.stop();
  }
  lines.push('', 'Defaults: HTTP_MAX_CONNECTIONS 4096 and HTTP_MAX_CONNECTIONS_PER_ADDRESS 256 per port, HOST_API_MAX_CONNECTIONS_PER_INSTANCE 16, HOST_API_MAX_CONNECTIONS_PER_OWNER 256.');
  return lines;
}
