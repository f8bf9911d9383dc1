/**
 * A real nats-server with JetStream for the bus tests: a free port on 127.0.0.1 and a throwaway store
 * directory, which restart() keeps (so streams survive it, as in production).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './server-process.ts';

export interface NatsServer {
  readonly url: string;
  readonly version: string;
  /** SIGTERM (nats-server flushes its store), then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port and store directory. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** SIGSTOP: connections stay open and nothing answers. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stops it and removes the store directory. */
  dispose(): Promise<void>;
}

const BINARY = 'nats-server';

/** Why the NATS tests cannot run here, or null when they can. Printed once, loudly, by the tests that skip. */
export function natsUnavailable(): string | null {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    return `SKIPPED: nats-server is not installed (${probe.error?.message ?? probe.stderr.trim()}); install it with \`apt-get install -y nats-server\` to run the NATS bus tests`;
  }
  return null;
}

export function natsSkip(): string | false {
  const why = natsUnavailable();
  if (why === null) return false;
  console.error(`\n*** ${why} ***\n`);
  return why;
}

/** `jetstream: false` starts one without -js (for the guard's test); `port` picks the port. */
export async function startNatsServer(options: { jetstream?: boolean; port?: number } = {}): Promise<NatsServer> {
  const port = options.port ?? (await freePort());
  const js = options.jetstream === false ? [] : ['-js'];
  const storeDir = mkdtempSync(path.join(tmpdir(), 'skyscale-nats-'));
  let child: ChildProcess | undefined;
  let version = '';

  const start = async () => {
    const proc = spawn(BINARY, [...js, '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start in 10 s:\n${log}`)), 10_000);
      proc.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        version ||= /Version:\s+(\S+)/.exec(log)?.[1] ?? '';
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${log}`));
      });
    });
    proc.stderr!.resume();
  };

  const stop = async () => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT');
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    get version() {
      return version;
    },
    stop,
    async restart({ downMs = 0 } = {}) {
      await stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    async dispose() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
