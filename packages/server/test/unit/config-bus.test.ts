import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busConfig } from '../../src/config/distributed.ts';
import { loadConfig } from '../../src/config/config.ts';

test('NATS_URL unset is the in-process bus', () => {
  assert.deepEqual(loadConfig({}).bus, { kind: 'memory' });
  assert.deepEqual(busConfig({ NATS_URL: '  ' }), { kind: 'memory' });
});

test('NATS_URL takes one server or a comma-separated list, with or without nats://', () => {
  assert.deepEqual(busConfig({ NATS_URL: 'nats://nats:4222' }), { kind: 'nats', urls: ['nats://nats:4222'] });
  assert.deepEqual(busConfig({ NATS_URL: 'nats://a:4222, b:4223' }), { kind: 'nats', urls: ['nats://a:4222', 'b:4223'] });
});

test('a NATS_URL that is not nats://host:port fails start-up naming the variable', () => {
  for (const bad of ['http://nats:4222', 'nats://', 'nats://a:4222/path', ',']) {
    assert.throws(() => busConfig({ NATS_URL: bad }), /NATS_URL/, bad);
  }
});
