/** LISTEN/NOTIFY across two stores (two processes' view), and start-up while PostgreSQL is not there. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { openStore, openStoreWithRetry } from '../../src/store/index.ts';
import { postgresDatabase, postgresSkip, stopPostgres } from '../helpers/postgres.ts';

after(stopPostgres);

describe('PostgreSQL notifications', { skip: postgresSkip }, () => {
  test('a notify in one store reaches a listener of another within a second', async () => {
    const url = await postgresDatabase();
    const [a, b] = await Promise.all([openStore({ kind: 'postgres', url, poolSize: 2 }), openStore({ kind: 'postgres', url, poolSize: 2 })]);
    try {
      const got: Array<string | null> = [];
      const heard = new Promise<number>((resolve) => {
        void b.notifications!.listen('routes', (payload) => {
          got.push(payload);
          resolve(Date.now());
        });
      });
      // listen() resolves once LISTEN took effect; wait for it before notifying.
      const stop = await b.notifications!.listen('api_keys', () => {});
      const sent = Date.now();
      await a.notifications!.notify('routes', 'gen-7');
      const at = await Promise.race([heard, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no notification within 1 s')), 1000))]);
      assert.ok(at - sent < 1000);
      assert.deepEqual(got, ['gen-7']);
      stop();
      await assert.rejects(a.notifications!.notify('bad channel'), /channel/);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

test('openStoreWithRetry: one line per attempt while PostgreSQL is unreachable, backoff doubling, stopped by its signal', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const lines: string[] = [];
  const controller = new AbortController();
  const opening = openStoreWithRetry({ kind: 'postgres', url: `postgres://u:secret@127.0.0.1:${port}/db`, poolSize: 1 }, { signal: controller.signal, warn: (l) => lines.push(l), firstDelayMs: 20, maxDelayMs: 80 });
  await new Promise((r) => setTimeout(r, 400));
  controller.abort(new Error('stopping'));
  await assert.rejects(opening, /stopping/);
  assert.ok(lines.length >= 3, lines.join('\n'));
  assert.equal(lines[0], `PostgreSQL at 127.0.0.1:${port} is not reachable (ECONNREFUSED); retrying in 0.02s`);
  assert.match(lines[1], /retrying in 0.04s$/);
  assert.ok(lines.slice(3).every((l) => l.endsWith('retrying in 0.08s')), 'capped');
  assert.ok(lines.every((l) => !l.includes('secret') && !l.includes('\n')), 'no password, no stack');
});
