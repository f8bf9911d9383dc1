import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeMessage, parseSandboxMessage } from '../../src/sandbox/protocol.ts';

test('host messages are single NDJSON lines', () => {
  const line = encodeMessage({ type: 'invoke', id: 'i1', event: { text: 'a\nb' }, context: { executionId: 'e', deadline: 1 } });
  assert.equal(line.indexOf('\n'), line.length - 1);
  assert.deepEqual(JSON.parse(line).event, { text: 'a\nb' });
});

test('sandbox messages are validated; anything malformed is a protocol violation (null)', () => {
  assert.deepEqual(parseSandboxMessage('{"type":"result","id":"i1","ok":true,"dropped":0,"result":{"a":1}}'), { type: 'result', id: 'i1', ok: true, result: { a: 1 }, dropped: 0 });
  assert.deepEqual(parseSandboxMessage('{"type":"result","id":"i1","ok":false,"error":{"message":"x"}}'), {
    type: 'result',
    id: 'i1',
    ok: false,
    error: { name: 'Error', message: 'x', stack: '' },
    dropped: 0,
    outOfMemory: false,
    sigkilled: false,
    exiting: false,
  });
  assert.deepEqual(parseSandboxMessage('{"type":"log","id":"i1","stream":"weird","data":"hi"}'), { type: 'log', id: 'i1', stream: 'stdout', data: 'hi' });
  for (const bad of ['', 'not json', '[]', '{"type":"result","ok":true}', '{"type":"log","id":"i1"}', '{"type":"surprise"}', `{"type":"log","id":"${'x'.repeat(300)}","data":""}`]) {
    assert.equal(parseSandboxMessage(bad), null, bad);
  }
});

test('stream messages from the runtime: data, acknowledgements, closes; malformed ones are violations', () => {
  assert.deepEqual(parseSandboxMessage('{"type":"stream_data","id":"s1","data":"hi"}'), { type: 'stream_data', id: 's1', data: 'hi', binary: false });
  assert.deepEqual(parseSandboxMessage('{"type":"stream_data","id":"s1","data":"AAE=","binary":true}'), { type: 'stream_data', id: 's1', data: 'AAE=', binary: true });
  assert.deepEqual(parseSandboxMessage('{"type":"stream_ack","id":"s1","messages":16}'), { type: 'stream_ack', id: 's1', messages: 16 });
  assert.deepEqual(parseSandboxMessage('{"type":"stream_close","id":"s1","code":4000,"reason":"bye"}'), { type: 'stream_close', id: 's1', code: 4000, reason: 'bye' });
  // A code the runtime may not use (1011 is the platform's, 2000 is not a code) becomes a normal closure.
  assert.deepEqual(parseSandboxMessage('{"type":"stream_close","id":"s1","code":1011}'), { type: 'stream_close', id: 's1', code: 1000, reason: '' });
  for (const bad of ['{"type":"stream_data","id":"s1"}', '{"type":"stream_data","id":"s1","data":5}', '{"type":"stream_ack","id":"s1","messages":0}', '{"type":"stream_ack","id":"s1","messages":1.5}', '{"type":"stream_close"}']) {
    assert.equal(parseSandboxMessage(bad), null, bad);
  }
});
