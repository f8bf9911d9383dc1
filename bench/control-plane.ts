import { startRawNodeHttp, startSkyscale } from '../packages/server/test/helpers/server-process.ts';
import { wrk, type LoadResult } from './lib/wrk.ts';

export interface Row {
  name: string;
  result: LoadResult;
}

/** GET /api/functions/{id} with an API key, next to a raw node:http server returning the same JSON. */
export async function benchControlPlane(seconds: number, connections: number): Promise<Row[]> {
  const sky = await startSkyscale();
  try {
    const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(sky.url + url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then((r) => r.json());
    await post('/auth/register', { username: 'bench', password: 'bench-password' });
    const { token } = await post('/auth/login', { username: 'bench', password: 'bench-password' });
    const { key } = await post('/api/auth/api-key', { name: 'bench' }, { authorization: `Bearer ${token}` });
    const fn = await post('/api/functions', { name: 'hello', runtime: 'node', code: 'export const handler = () => "hi";' }, { authorization: `Bearer ${key}` });
    const body = JSON.stringify(await (await fetch(`${sky.url}/api/functions/${fn.id}`, { headers: { authorization: `Bearer ${key}` } })).json());

    const raw = await startRawNodeHttp(body);
    try {
      wrk(raw.url, { connections, seconds: 1 });
      const baseline = wrk(raw.url, { connections, seconds });
      wrk(`${sky.url}/api/functions/${fn.id}`, { connections, seconds: 1, headers: { authorization: `Bearer ${key}` } });
      const skyscale = wrk(`${sky.url}/api/functions/${fn.id}`, { connections, seconds, headers: { authorization: `Bearer ${key}` } });
      return [
        { name: `raw node:http, same JSON body (${connections} conns)`, result: baseline },
        { name: `GET /api/functions/{id} with API key (${connections} conns)`, result: skyscale },
      ];
    } finally {
      await raw.stop();
    }
  } finally {
    await sky.stop();
  }
}
