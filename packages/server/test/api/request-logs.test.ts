import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { testPlatform, type TestPlatform } from '../helpers/platform.ts';
import { sandboxSkipReason } from '../helpers/sandbox.ts';

type Line = Record<string, unknown>;
const lines: Line[] = [];
const logger = pino({ level: 'debug' }, { write: (text: string) => void lines.push(JSON.parse(text) as Line) });
const skip = sandboxSkipReason();
let p: TestPlatform;
let auth: Record<string, string>;

before(async () => {
  if (skip) return;
  p = await testPlatform({ WARM_POOL_SIZE: '1' }, { logger });
  ({ auth } = await p.user('logs'));
  const deployed = await p.api.inject({ method: 'POST', url: '/api/functions', headers: auth, payload: { name: 'logged', runtime: 'node', code: 'export const handler = (e) => ({ ok: true });', routes: [{ method: 'POST', path: '/logged' }] } });
  assert.equal(deployed.statusCode, 201, deployed.body);
});
after(() => p?.close());

/** Every log line that names this execution also names this request; and each plane wrote at least one. */
function assertTagged(executionId: string, requestId: string, messages: string[]): void {
  const mine = lines.filter((l) => l.executionId === executionId);
  for (const line of mine) assert.equal(line.requestId, requestId, JSON.stringify(line));
  for (const msg of messages) assert.ok(mine.some((l) => l.msg === msg), `no "${msg}" line with the execution id: ${JSON.stringify(mine)}`);
  assert.ok(lines.filter((l) => l.requestId === requestId).every((l) => l.msg === 'incoming request' || l.executionId === executionId), 'once the execution exists, the request\'s lines name it');
}

test('an API invocation: the request\'s lines and the worker\'s carry the request id and the execution id', { skip }, async () => {
  const res = await p.api.inject({ method: 'POST', url: '/api/functions/name/logged/invoke', headers: { ...auth, 'x-request-id': 'req-api-1' }, payload: {} });
  assert.equal(res.statusCode, 200, res.body);
  assertTagged(res.json().id, 'req-api-1', ['invocation finished', 'request completed']);
});

test('a gateway route: the gateway\'s line and the worker\'s carry the request id and the execution id', { skip }, async () => {
  const res = await fetch(`${p.gatewayUrl}/logged`, { method: 'POST', headers: { 'x-request-id': 'req-gw-1' }, body: '{}' });
  assert.equal(res.status, 200);
  const executionId = res.headers.get('x-execution-id')!;
  assertTagged(executionId, 'req-gw-1', ['invocation finished', 'gateway request completed']);
});
