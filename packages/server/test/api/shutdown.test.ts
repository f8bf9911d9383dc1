import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { testPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

test('a graceful stop says how much work in flight it waits for, and lets it finish', { skip: sandboxSkipReason() }, async () => {
  const lines: Array<{ msg: string; waiting?: string[] }> = [];
  const logger = pino({ level: 'info' }, { write: (text: string) => void lines.push(JSON.parse(text)) });
  const p = await testPlatform({ WARM_POOL_SIZE: '1' }, { logger });
  const { auth } = await p.user('stopper');
  const code = 'export const handler = async () => { await new Promise((r) => setTimeout(r, 600)); return "finished"; };';
  assert.equal((await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'slow', runtime: 'node', code } })).statusCode, 201);
  assert.equal((await p.api.inject({ method: 'POST', url: '/api/functions/name/slow/invoke?async=true', headers: auth, payload: {} })).statusCode, 202);
  const sync = p.api.inject({ method: 'POST', url: '/api/functions/name/slow/invoke', headers: auth, payload: {} });
  const inFlight = async () => (await p.api.inject({ method: 'GET', url: '/api/vms', headers: auth })).json().items.reduce((n: number, v: { inFlight: number }) => n + v.inFlight, 0);
  for (let i = 0; i < 300 && (await inFlight()) < 2; i++) await new Promise((r) => setTimeout(r, 10));
  await p.close();
  const stopping = lines.find((l) => l.msg.startsWith('stopping:'));
  assert.ok(stopping, JSON.stringify(lines.map((l) => l.msg)));
  assert.match(stopping.msg, /waiting for 1 async executions, 1 invocations/);
  const answer = (await sync).json();
  assert.equal(answer.result, 'finished', `the sync invocation in flight was answered: ${JSON.stringify(answer)}`);
});
