/**
 * The platform runs from wherever it is installed: here a copy of this repository inside a directory
 * nobody else may search (what `mktemp -d` makes, like a 0750 home), started with that copy's own Node.
 * As root every sandbox runs as its own uid, which cannot enter that directory.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { sandboxSkipReason } from '../helpers/sandbox.ts';
import { startSkyscale } from '../helpers/server-process.ts';

const repo = path.resolve(import.meta.dirname, '../../../..');

function skipReason(): string | false {
  if (process.getuid?.() !== 0) {
    const reason = 'SKIPPED: the private-clone test needs root (only root runs each sandbox as its own uid) — run `npm test` as root';
    console.warn(`\n*** ${reason} ***\n`);
    return reason;
  }
  return sandboxSkipReason();
}

/** A copy of this checkout without the copying: every file hardlinked (`cp -al`), node_modules included. */
function copyCheckout(target: string): void {
  mkdirSync(target);
  // Not git's database, nor the data of a server started in the checkout.
  const entries = readdirSync(repo).filter((name) => name !== '.git' && name !== 'data');
  execFileSync('cp', ['-al', ...entries.map((name) => path.join(repo, name)), target]);
}

async function call(url: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; json: Record<string, any> }> {
  const res = await fetch(url, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

test('a clone in a 0700 directory, run with its own Node, deploys and invokes node and python functions', { skip: skipReason(), timeout: 60_000 }, async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'skyscale-private-'));
  // The sandboxes' work dir (SANDBOX_DIR) is the platform's own and must stay reachable; a fresh one
  // keeps this run's copy of Node out of the machine's shared one.
  const sandboxDir = mkdtempSync(path.join(tmpdir(), 'skyscale-private-sandboxes-'));
  chmodSync(sandboxDir, 0o711);
  let server: Awaited<ReturnType<typeof startSkyscale>> | undefined;
  try {
    assert.equal(statSync(root).mode & 0o777, 0o700);
    const clone = path.join(root, 'skyscale');
    copyCheckout(clone);
    server = await startSkyscale({ SANDBOX_DIR: sandboxDir, WARM_POOL_SIZE: '1' }, { checkout: clone, dataDir: path.join(clone, 'data') });

    const user = { username: 'alice', password: 'correct horse battery' };
    assert.equal((await call(`${server.url}/auth/register`, { body: user })).status, 201);
    const { token } = (await call(`${server.url}/auth/login`, { body: user })).json;
    const system = (await call(`${server.url}/api/v1/system`, { method: 'GET', token })).json;
    assert.equal(system.sandbox.usable, true, JSON.stringify(system.sandbox.warnings));
    assert.ok(system.sandbox.runtimes.node.path.startsWith(`${sandboxDir}/`), `node runs from a copy in the work dir: ${system.sandbox.runtimes.node.path}`);

    const functions = [
      { name: 'hello-node', runtime: 'node', code: 'export const handler = (event) => ({ hello: event.name, node: process.version });' },
      { name: 'hello-python', runtime: 'python', code: 'import sys\ndef handler(event, context):\n    return {"hello": event["name"], "python": sys.version_info[0]}\n' },
    ];
    for (const fn of functions) {
      const deployed = await call(`${server.url}/api/functions`, { token, body: fn });
      assert.equal(deployed.status, 201, JSON.stringify(deployed.json));
      const invoked = await call(`${server.url}/api/functions/name/${fn.name}/invoke`, { token, body: { name: 'Ada' } });
      assert.equal(invoked.json.status, 'succeeded', JSON.stringify(invoked.json));
      assert.equal(invoked.json.result.hello, 'Ada');
    }
  } finally {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(sandboxDir, { recursive: true, force: true });
  }
});
