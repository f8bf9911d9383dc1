import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/config.ts';

test('defaults follow the documented values', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8080);
  assert.equal(c.gatewayPort, 8081);
  assert.equal(c.dataDir, path.resolve('./data'));
  assert.equal(c.dbPath, path.resolve('./data/skyscale.db'));
  assert.equal(c.logLevel, 'info');
  assert.equal(c.warmPoolSize, 5);
  assert.equal(c.signup, 'open');
  assert.equal(c.maxTimeoutMs, 900_000);
  assert.equal(c.credentialMaxFailures, 20);
  assert.equal(c.credentialWindowSeconds, 60);
  assert.equal(c.maxQueued, 10_000);
  assert.equal(c.ownerShare, 0.5, 'an owner at its share leaves as much to the others');
  assert.ok(Object.isFrozen(c));
});

test('values are parsed; DB_PATH is relative to DATA_DIR', () => {
  const c = loadConfig({ PORT: '9000', DATA_DIR: '/tmp/sky', DB_PATH: 'meta.db', LOG_LEVEL: 'DEBUG', WARM_POOL_SIZE: '0', SIGNUP: 'closed', MAX_TIMEOUT_SECONDS: '120' });
  assert.equal(c.maxTimeoutMs, 120_000);
  assert.equal(c.port, 9000);
  assert.equal(c.dbPath, '/tmp/sky/meta.db');
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.warmPoolSize, 0);
  assert.equal(c.signup, 'closed');
});

test('a bad value names the variable', () => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ GATEWAY_PORT: '-1' }, 'GATEWAY_PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ WARM_POOL_SIZE: '1.5' }, 'WARM_POOL_SIZE'],
    [{ SIGNUP: 'maybe' }, 'SIGNUP'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ MAX_TIMEOUT_SECONDS: '901' }, 'MAX_TIMEOUT_SECONDS'],
    [{ CREDENTIAL_MAX_FAILURES: '0' }, 'CREDENTIAL_MAX_FAILURES'],
    [{ CREDENTIAL_WINDOW_SECONDS: 'a minute' }, 'CREDENTIAL_WINDOW_SECONDS'],
    [{ MAX_OWNER_SHARE: '0' }, 'MAX_OWNER_SHARE'],
    [{ MAX_OWNER_SHARE: '1.5' }, 'MAX_OWNER_SHARE'],
    [{ MAX_QUEUED: 'lots' }, 'MAX_QUEUED'],
    [{ HTTP_MAX_CONNECTIONS: '0' }, 'HTTP_MAX_CONNECTIONS'],
    [{ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }, 'HTTP_HEADERS_TIMEOUT_MS'],
    [{ HOST_API_MAX_CONNECTIONS_PER_INSTANCE: '2000' }, 'HOST_API_MAX_CONNECTIONS_PER_INSTANCE'],
  ];
  for (const [env, variable] of bad) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.variable === variable && err.message.includes(variable));
  }
});

test('connection limits: documented defaults, each one set by its variable', () => {
  assert.deepEqual(loadConfig({}).connections, { headersTimeoutMs: 15_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 10_000, sendTimeoutMs: 30_000, maxConnections: 4096, maxConnectionsPerAddress: 256 });
  assert.deepEqual(loadConfig({}).hostApi, { maxConnectionsPerInstance: 16, maxConnectionsPerOwner: 256 });
  const c = loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_KEEPALIVE_TIMEOUT_MS: '3000', HTTP_SEND_TIMEOUT_MS: '4000', HTTP_MAX_CONNECTIONS: '5', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '6', HOST_API_MAX_CONNECTIONS_PER_INSTANCE: '7', HOST_API_MAX_CONNECTIONS_PER_OWNER: '8' });
  assert.deepEqual(c.connections, { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 3000, sendTimeoutMs: 4000, maxConnections: 5, maxConnectionsPerAddress: 6 });
  assert.deepEqual(c.hostApi, { maxConnectionsPerInstance: 7, maxConnectionsPerOwner: 8 });
});

test('BWRAP_PATH names bubblewrap; unset, it is looked up on PATH', () => {
  assert.equal(loadConfig({}).bwrapPath, undefined);
  assert.equal(loadConfig({ BWRAP_PATH: ' /opt/bwrap/bin/bwrap ' }).bwrapPath, '/opt/bwrap/bin/bwrap');
});

test('SANDBOX_DIR names the sandboxes\' work dir; unset, the driver chooses', () => {
  assert.equal(loadConfig({}).sandboxDir, undefined);
  assert.equal(loadConfig({ SANDBOX_DIR: ' /srv/skyscale-sandboxes ' }).sandboxDir, '/srv/skyscale-sandboxes');
});
