// `npm run bench -- stream`: WebSocket messages per second through a stream echo function, next to a
// raw `ws` echo server (one child process, no sandbox) measured in the same run; the ratio is the figure.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { descendantsOf } from '../packages/server/src/sandbox/process/process-tree.ts';
import WebSocket from 'ws';
import { startSkyscale } from '../packages/server/test/helpers/server-process.ts';
import { benchClient, median, percentile } from './lib/api.ts';

const ECHO = 'export async function stream(messages, send) { for await (const m of messages) await send(m); }';
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

interface Run {
  messagesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the server's process tree (platform + sandboxed runtime) per echoed message. */
  cpuUsPerMessage: number;
}

/** utime + stime of a process and its descendants, in ms (clock ticks of 10 ms). */
function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const p of descendantsOf(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The baseline: `ws` echoing every message, in a process of its own like the platform. */
async function startRawEcho(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const code = `import { WebSocketServer } from 'ws'; new WebSocketServer({ port: ${port}, host: '127.0.0.1', perMessageDeflate: false }).on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'inherit', 'inherit'], cwd: import.meta.dirname });
  const url = `ws://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(url);
      ws.once('open', () => (ws.close(), resolve(true)));
      ws.once('error', () => resolve(false));
    });
    if (ok) return { url, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the raw ws echo server did not start');
}

/** `connections` sockets, each keeping `inFlight` messages of `size` bytes outstanding, for `seconds`. */
async function measure(url: string, headers: Record<string, string>, connections: number, inFlight: number, size: number, seconds: number, serverPid: number): Promise<Run> {
  const payload = 'x'.repeat(size);
  const sockets = await Promise.all(Array.from({ length: connections }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  const latencies: number[] = [];
  let received = 0;
  let measuring = false;
  let stop = false;
  const done = sockets.map((ws) => new Promise<void>((resolve) => {
    const sentAt: number[] = [];
    const sendOne = () => {
      sentAt.push(performance.now());
      ws.send(payload);
    };
    ws.on('message', () => {
      const t0 = sentAt.shift()!;
      if (measuring) {
        received++;
        if (latencies.length < 200_000) latencies.push(performance.now() - t0);
      }
      if (stop) {
        if (sentAt.length === 0) resolve();
        return;
      }
      sendOne();
    });
    for (let i = 0; i < inFlight; i++) sendOne();
  }));
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  measuring = true;
  const cpu0 = treeCpuMs(serverPid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpuMs = treeCpuMs(serverPid) - cpu0;
  stop = true;
  await Promise.race([Promise.all(done), new Promise((r) => setTimeout(r, 5000))]);
  for (const ws of sockets) ws.close();
  return { messagesPerSec: received / elapsed, p50Ms: median(latencies), p99Ms: percentile(latencies, 99), cpuUsPerMessage: (cpuMs * 1000) / received };
}

export async function benchStream(seconds: number, rounds = Number(process.env.BENCH_STREAM_ROUNDS ?? 3)): Promise<string[]> {
  const sky = await startSkyscale({ WARM_POOL_SIZE: '2' });
  const raw = await startRawEcho();
  try {
    const { client, key } = await benchClient(sky.url);
    await client.createFunction({ name: 'echo', runtime: 'node', code: ECHO, maxInstances: 8 });
    const streamUrl = `${sky.gatewayUrl.replace(/^http/, 'ws')}/ws/echo`;
    const headers = { 'x-api-key': key };
    const lines = [`| benchmark | connections × in flight | msg/s (median of ${rounds}) | p50 ms | p99 ms | server CPU µs / message |`, '|---|---|---|---|---|---|'];
    const ratios: string[] = [];
    const pick = (runs: Run[]) => runs.sort((a, b) => a.messagesPerSec - b.messagesPerSec)[Math.floor(runs.length / 2)];
    for (const [connections, inFlight] of [[1, 1], [1, 64], [4, 64]] as const) {
      // Interleaved rounds: the machine is shared, so both sides see the same noise.
      const rawRuns: Run[] = [];
      const skyRuns: Run[] = [];
      for (let round = 0; round < rounds; round++) {
        rawRuns.push(await measure(raw.url, {}, connections, inFlight, 64, seconds, raw.child.pid!));
        skyRuns.push(await measure(streamUrl, headers, connections, inFlight, 64, seconds, sky.child.pid!));
      }
      const [r, s] = [pick(rawRuns), pick(skyRuns)];
      lines.push(`| raw ws echo server | ${connections} × ${inFlight} | ${fmt(r.messagesPerSec)} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p99Ms, 3)} | ${fmt(r.cpuUsPerMessage, 1)} |`);
      lines.push(`| stream echo function (node) | ${connections} × ${inFlight} | ${fmt(s.messagesPerSec)} | ${fmt(s.p50Ms, 3)} | ${fmt(s.p99Ms, 3)} | ${fmt(s.cpuUsPerMessage, 1)} |`);
      ratios.push(`${connections} × ${inFlight}: **${fmt(s.messagesPerSec / r.messagesPerSec, 2)}**`);
    }
    lines.push('', `64-byte text messages echoed, measured after 1 s of warm-up; server CPU is the platform process plus its sandboxed runtimes (the raw server: its one process). Ratio stream ÷ raw msg/s (medians) — ${ratios.join(', ')}`);
    return lines;
  } finally {
    raw.child.kill();
    await sky.stop();
  }
}
