import { SkyscaleClient } from '@skyscale/client';
import type { TestCluster } from '../helpers/cluster.ts';

/** The cluster's first user (an admin) and a client with an API key of theirs. */
export async function adminClient(controlUrl: string, gatewayUrl?: string, username = 'admin'): Promise<{ client: SkyscaleClient; key: string }> {
  const anonymous = new SkyscaleClient({ endpoint: controlUrl });
  await anonymous.register(username, `${username}-password`);
  const session = await anonymous.login(username, `${username}-password`);
  const { key } = await new SkyscaleClient({ endpoint: controlUrl, token: session.token }).createApiKey('tests');
  return { client: new SkyscaleClient({ endpoint: controlUrl, apiKey: key, gatewayEndpoint: gatewayUrl }), key };
}

/** Executions still not terminal, polled until none or `timeoutMs`. */
export async function waitTerminal(client: SkyscaleClient, ids: readonly string[], timeoutMs = 60_000): Promise<Map<string, { status: string; attempts: number; workerId?: string | null; result: unknown }>> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<string, { status: string; attempts: number; workerId?: string | null; result: unknown }>();
  while (Date.now() < deadline) {
    for (const id of ids) {
      if (done.has(id)) continue;
      const e = await client.getExecution(id);
      if (!['queued', 'running'].includes(e.status)) done.set(id, e as never);
    }
    if (done.size === ids.length) return done;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${ids.length - done.size} of ${ids.length} executions not terminal within ${timeoutMs} ms`);
}

export type { TestCluster };
