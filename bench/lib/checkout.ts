// Starts the platform of another checkout of this repository (for A/B runs), with a fresh data dir.
import { mkdtempSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../packages/server/test/helpers/server-process.ts';

export interface CheckoutServer {
  child: ChildProcess;
  url: string;
  gatewayUrl: string;
  dataDir: string;
}

export async function startCheckout(name: string, dir: string, env: Record<string, string>): Promise<CheckoutServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'skyscale-ab-'));
  const port = await freePort();
  const gatewayPort = await freePort();
  const child = spawn(process.execPath, [path.join(dir, 'packages/server/bin/skyscale.js'), 'serve'], {
    env: { ...process.env, PORT: String(port), GATEWAY_PORT: String(gatewayPort), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not up yet
    }
    if (i > 300) throw new Error(`${name} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url, gatewayUrl: `http://127.0.0.1:${gatewayPort}`, dataDir };
}
