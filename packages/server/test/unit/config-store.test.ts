import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/config.ts';

test('DATABASE_URL selects PostgreSQL with DATABASE_POOL_SIZE (default 10); unset, SQLite at DB_PATH', () => {
  assert.deepEqual(loadConfig({ DATA_DIR: '/tmp/d', DATABASE_URL: 'postgres://u:p@db:5432/sky' }).store, { kind: 'postgres', url: 'postgres://u:p@db:5432/sky', poolSize: 10 });
  assert.equal((loadConfig({ DATA_DIR: '/tmp/d', DATABASE_URL: 'postgresql://db/sky', DATABASE_POOL_SIZE: '3' }).store as { poolSize: number }).poolSize, 3);
  assert.deepEqual(loadConfig({ DATA_DIR: '/tmp/d' }).store, { kind: 'sqlite', path: '/tmp/d/skyscale.db' });
  assert.deepEqual(loadConfig({ DATA_DIR: '/tmp/d', DATABASE_URL: '  ' }).store.kind, 'sqlite');
});

test('a DATABASE_URL that is not postgres:// is a ConfigError naming the variable', () => {
  for (const url of ['mysql://db/sky', 'sqlite:///tmp/x.db', 'not a url', 'postgres://']) {
    assert.throws(() => loadConfig({ DATA_DIR: '/tmp/d', DATABASE_URL: url }), (err: Error) => err.name === 'ConfigError' && /DATABASE_URL must be a PostgreSQL URL/.test(err.message), url);
  }
  assert.throws(() => loadConfig({ DATA_DIR: '/tmp/d', DATABASE_URL: 'postgres://db/x', DATABASE_POOL_SIZE: '0' }), /DATABASE_POOL_SIZE/);
});
