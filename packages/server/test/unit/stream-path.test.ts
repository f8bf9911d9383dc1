import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStreamPath } from '../../src/gateway/stream-endpoint.ts';
import { closeFor, closeReason } from '../../src/streams/stream-record.ts';

test('stream URLs: /<name> and /ws/<name>, with the rest of the path and the query for the function', () => {
  assert.deepEqual(parseStreamPath('/chat'), { name: 'chat', path: '/', query: '' });
  assert.deepEqual(parseStreamPath('/chat/room/7?user=ada'), { name: 'chat', path: '/room/7', query: 'user=ada' });
  assert.deepEqual(parseStreamPath('/ws/chat'), { name: 'chat', path: '/', query: '' });
  assert.deepEqual(parseStreamPath('/ws/chat/x?y=1'), { name: 'chat', path: '/x', query: 'y=1' });
  assert.deepEqual(parseStreamPath('/ws/ws'), { name: 'ws', path: '/', query: '' });
  assert.deepEqual(parseStreamPath('/function/chat/x'), { name: 'chat', path: '/x', query: '' });
  assert.deepEqual(parseStreamPath('/caf%C3%A9'), { name: 'café', path: '/', query: '' });
  for (const bad of ['/', '', 'chat', '/ws/', '/%E0%A4%A', '//x', `/${'a'.repeat(129)}`]) assert.equal(parseStreamPath(bad), undefined, bad);
});

test('close reasons fit the 123 bytes RFC 6455 allows, without splitting a character', () => {
  assert.equal(closeReason('short'), 'short');
  const long = closeReason('é'.repeat(100));
  assert.ok(Buffer.byteLength(long) <= 123);
  assert.ok(!long.includes('\uFFFD'));
  assert.deepEqual(closeFor({ status: 'succeeded', result: 1, error: null, logs: '', logsTruncated: false, durationMs: 1, coldStart: false, instanceId: null }), { code: 1000, reason: '' });
  const failed = closeFor({ status: 'failed', result: null, error: { reason: 'user_error', fault: 'user', message: 'Error: boom' }, logs: '', logsTruncated: false, durationMs: 1, coldStart: false, instanceId: null });
  assert.deepEqual(failed, { code: 1011, reason: 'failed: Error: boom' });
});
