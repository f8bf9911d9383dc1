// `node bench/floor-invoke.ts [seconds] [connections]`: the floor under a warm sync invoke.
// A bare node:http server in front of the real process driver (bubblewrap sandboxes, the NDJSON
// pipe protocol, two instances like the invoke bench), with no routing, auth, scheduler or record:
// what one HTTP request that crosses into a sandboxed runtime and back costs on this machine,
// measured next to the raw node:http hello server in the same run.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ProcessDriver } from '../packages/server/src/sandbox/process/process-driver.ts';
import type { SandboxInstance } from '../packages/server/src/sandbox/driver.ts';
import { freePort, startRawNodeHttp } from '../packages/server/test/helpers/server-process.ts';
import { spawn } from 'node:child_process';
import { wrk } from './lib/wrk.ts';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);
const root = mkdtempSync(path.join(os.tmpdir(), 'skyscale-floor-'));
chmodSync(root, 0o711);
const codeDir = path.join(root, 'code');
mkdtempSync(codeDir);
const driver = new ProcessDriver({ workDir: path.join(root, 'work'), cgroupName: 'skyscale-floor' });
const instances: SandboxInstance[] = [];
try {
  const fnDir = mkdtempSync(path.join(root, 'fn-'));
  writeFileSync(path.join(fnDir, 'index.js'), 'export const handler = (e) => ({ hello: e.name });\n');
  for (let i = 0; i < 2; i++) {
    const instance = await driver.start({ id: `floor-${i}`, runtime: 'node', limits: { memoryMb: 256 } });
    const loaded = await instance.load({ codeDir: fnDir, handler: 'index.handler', env: {}, functionName: 'floor', functionVersion: '1', deadlineMs: Date.now() + 10_000 });
    if (loaded.kind !== 'loaded') throw new Error(`load failed: ${JSON.stringify(loaded)}`);
    instances.push(instance);
  }
  let next = 0;
  const port = await freePort();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const instance = instances[next++ % instances.length];
      void instance.invoke({ executionId: 'x', event, deadlineMs: Date.now() + 10_000 }).then((outcome) => {
        const body = JSON.stringify(outcome.kind === 'ok' ? outcome.result : { error: outcome.kind });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
  });
  if (process.env.FLOOR_FASTIFY) {
    // Variant: the same handler as a Fastify route (what the framework itself adds).
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.post('/', async (request) => {
      const instance = instances[next++ % instances.length];
      const outcome = await instance.invoke({ executionId: 'x', event: request.body, deadlineMs: Date.now() + 10_000 });
      return outcome.kind === 'ok' ? outcome.result : { error: outcome.kind };
    });
    await app.listen({ port, host: '127.0.0.1' });
  } else await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const raw = await startRawNodeHttp(JSON.stringify({ hello: 'bench' }));
  const script = path.join(import.meta.dirname, 'lib/post.lua');
  try {
    for (const c of [1, connections]) {
      wrk(raw.url, { connections: c, seconds: 1 });
      const r = wrk(raw.url, { connections: c, seconds });
      // wrk runs from a separate node process (wrk() blocks its caller), so this process keeps serving.
      await wrkAside(`http://127.0.0.1:${port}/`, c, 1, script);
      const cpu0 = process.cpuUsage();
      const f = await wrkAside(`http://127.0.0.1:${port}/`, c, seconds, script);
      const cpu = process.cpuUsage(cpu0);
      console.log(`${c} conn: raw ${r.requestsPerSec.toFixed(0)} req/s p50 ${r.p50Ms} ms | http→sandbox floor ${f.requestsPerSec.toFixed(0)} req/s p50 ${f.p50Ms} ms | ratio ${(f.requestsPerSec / r.requestsPerSec).toFixed(2)}, p50 overhead ${(f.p50Ms - r.p50Ms).toFixed(2)} ms; server CPU ${((cpu.user + cpu.system) / f.requests).toFixed(1)} µs/request`);
    }
  } finally {
    await raw.stop();
    server.close();
  }
} finally {
  await Promise.allSettled(instances.map((i) => i.kill('done')));
  rmSync(root, { recursive: true, force: true });
}

function wrkAside(url: string, c: number, s: number, script: string): Promise<ReturnType<typeof wrk>> {
  const code = `import { wrk } from ${JSON.stringify(path.join(import.meta.dirname, 'lib/wrk.ts'))}; console.log(JSON.stringify(wrk(${JSON.stringify(url)}, { connections: ${c}, seconds: ${s}, script: ${JSON.stringify(script)} })));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`wrk exited ${code}`))));
  });
}
