import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../../../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up in ${timeoutMs} ms`);
}

export interface RunningServer {
  url: string;
  /** Set for the platform: its gateway (data plane). */
  gatewayUrl?: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

export const skyscaleBin = path.join(repo, 'packages/server/bin/skyscale.js');

/**
 * The real platform (`skyscale serve`) as a child process. With `dataDir` given it reuses that
 * directory (a restart) and leaves it in place on stop; otherwise it makes and removes a throwaway one.
 */
/** Runs the real CLI as a child process; `input` goes to its stdin. */
export function runCli(args: string[], env: Record<string, string>, input = '', options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [skyscaleBin, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface StartOptions {
  dataDir?: string;
  port?: number;
  /** Another copy of the repository to run, with its own Node: `<checkout>/node_modules/node/bin/node`. */
  checkout?: string;
  /** Collect what the server writes to stdout (its log lines) for `output()`. */
  captureOutput?: boolean;
  /** A command the server runs under, e.g. `['prlimit', '--nofile=256', '--']`. */
  wrap?: string[];
}

export async function startSkyscale(env: Record<string, string> = {}, options: StartOptions = {}): Promise<RunningServer & { dataDir: string; port: number; gatewayUrl: string; output(): string }> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'skyscale-server-'));
  const port = options.port ?? (await freePort());
  const gatewayPort = await freePort();
  const node = options.checkout ? path.join(options.checkout, 'node_modules/node/bin/node') : process.execPath;
  const bin = options.checkout ? path.join(options.checkout, 'packages/server/bin/skyscale.js') : skyscaleBin;
  const command = [...(options.wrap ?? []), node, bin, 'serve'];
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, PORT: String(port), GATEWAY_PORT: String(gatewayPort), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    cwd: options.checkout,
    stdio: ['ignore', options.captureOutput ? 'pipe' : 'ignore', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await waitFor(`${url}/healthz`, child);
  await waitFor(`${gatewayUrl}/_skyscale/healthz`, child);
  return {
    url,
    gatewayUrl,
    child,
    dataDir,
    port,
    output: () => output,
    stop: async () => {
      await stopChild(child);
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The baseline: a raw node:http server answering a fixed JSON body with Content-Length. */
export async function startRawNodeHttp(body: string): Promise<RunningServer> {
  const port = await freePort();
  const code = `const http=require('node:http');const b=Buffer.from(process.env.BODY);http.createServer((q,s)=>{s.writeHead(200,{'content-type':'application/json','content-length':b.length});s.end(b)}).listen(${port},'127.0.0.1')`;
  const child = spawn(process.execPath, ['-e', code], { env: { BODY: body }, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url, child);
  return { url, child, stop: () => stopChild(child) };
}
