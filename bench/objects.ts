import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startSkyscale } from '../packages/server/test/helpers/server-process.ts';
import { benchClient } from './lib/api.ts';

const MB = 1024 * 1024;
const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');

/** A raw node:http server that streams an upload to a file (fsynced) and serves it back: the baseline. */
async function startRawFileServer(dir: string): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const code = `
    const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
    const file = path.join(${JSON.stringify(dir)}, 'blob');
    http.createServer((req, res) => {
      if (req.method === 'PUT') {
        const out = fs.createWriteStream(file, { flush: true });
        req.pipe(out).on('close', () => { res.writeHead(201); res.end(); });
      } else {
        const size = fs.statSync(file).size;
        res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
        fs.createReadStream(file).pipe(res);
      }
    }).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'inherit' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url, { method: 'PUT', body: 'x' });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, stop: () => child.kill() };
}

async function timeTransfers(upload: () => Promise<unknown>, download: () => Promise<number>, rounds: number, bytes: number): Promise<{ up: number; down: number }> {
  let upMs = 0;
  let downMs = 0;
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    await upload();
    upMs += performance.now() - t;
    t = performance.now();
    const got = await download();
    downMs += performance.now() - t;
    if (got !== bytes) throw new Error(`downloaded ${got} bytes, expected ${bytes}`);
  }
  return { up: (bytes * rounds) / MB / (upMs / 1000), down: (bytes * rounds) / MB / (downMs / 1000) };
}

/** Object upload and download throughput (MB/s) for one object size, next to the raw baseline. */
export async function benchObjects(sizeMb = 32, rounds = 5): Promise<string[]> {
  const bytes = sizeMb * MB;
  const payload = Buffer.alloc(bytes, 7);
  const dir = mkdtempSync(path.join(tmpdir(), 'skyscale-rawfile-'));
  const raw = await startRawFileServer(dir);
  const sky = await startSkyscale({ WARM_POOL_SIZE: '0', MAX_OBJECT_BYTES: String(bytes * 2) });
  try {
    const { client, key } = await benchClient(sky.url);
    const fn = await client.createFunction({ name: 'objects', runtime: 'node', code: 'export const handler = () => 1;' });
    const objectUrl = `${sky.url}/api/function-objects/${fn.id}/blob.bin`;
    const auth = { authorization: `Bearer ${key}` };
    const download = async (url: string, headers: Record<string, string> = {}) => (await (await fetch(url, { headers })).arrayBuffer()).byteLength;
    const base = await timeTransfers(() => fetch(raw.url, { method: 'PUT', body: payload }).then((r) => r.arrayBuffer()), () => download(raw.url), rounds, bytes);
    const ours = await timeTransfers(
      () => fetch(objectUrl, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: payload }).then(async (r) => { if (!r.ok) throw new Error(await r.text()); }),
      () => download(objectUrl, auth),
      rounds,
      bytes,
    );
    return [
      `| ${sizeMb} MB object × ${rounds} | upload MB/s | download MB/s |`,
      '|---|---|---|',
      `| raw node:http → file (fsync) | ${fmt(base.up)} | ${fmt(base.down)} |`,
      `| PUT/GET /api/function-objects | ${fmt(ours.up)} | ${fmt(ours.down)} |`,
      '',
      `Ratio upload ${(ours.up / base.up).toFixed(2)}, download ${(ours.down / base.down).toFixed(2)}`,
    ];
  } finally {
    raw.stop();
    await sky.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
