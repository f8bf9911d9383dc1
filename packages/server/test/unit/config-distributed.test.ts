import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { loadConfig, ConfigError } from '../../src/config/config.ts';
import { parseRoles } from '../../src/config/distributed.ts';

function assertConfigError(env: Record<string, string>, variable: string, flags = {}): void {
  assert.throws(() => loadConfig(env, flags), (err: unknown) => err instanceof ConfigError && err.variable === variable && err.message.includes(variable), `${JSON.stringify(env)} ${JSON.stringify(flags)}`);
}

test('no role is the embedded mode; --role wins over SKYSCALE_ROLES', () => {
  assert.deepEqual(loadConfig({}).roles, []);
  assert.deepEqual(loadConfig({ SKYSCALE_ROLES: ' ' }).roles, []);
  assert.deepEqual(loadConfig({ SKYSCALE_ROLES: 'worker' }).roles, ['worker']);
  assert.deepEqual(loadConfig({ SKYSCALE_ROLES: 'worker' }, { roles: ['gateway'] }).roles, ['gateway']);
  assert.deepEqual(loadConfig({ SKYSCALE_ROLES: 'worker' }, { roles: [] }).roles, ['worker'], 'no --role given');
  assert.ok(Object.isFrozen(loadConfig({}, { roles: ['control'] }).roles));
});

test('roles: comma-separated or repeated, any case, in a fixed order without repeats', () => {
  assert.deepEqual(parseRoles(['worker,control', 'GATEWAY', 'control'], '--role'), ['control', 'gateway', 'worker']);
  assert.deepEqual(parseRoles([' gateway , worker '], '--role'), ['gateway', 'worker']);
  for (const bad of [['api'], [''], ['control,'], ['control worker'], ['embedded']]) {
    assert.throws(() => parseRoles(bad, '--role'), (err: unknown) => err instanceof ConfigError && err.variable === '--role' && err.message.includes('control, gateway, worker'), bad.join('|'));
  }
  assertConfigError({}, '--role', { roles: ['workers'] });
  assertConfigError({ SKYSCALE_ROLES: 'control;worker' }, 'SKYSCALE_ROLES');
});

test('worker and autoscaler defaults are seed 001\'s', () => {
  const c = loadConfig({});
  assert.deepEqual(c.worker, { id: `${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '-'), maxConcurrentExecutions: 10, heartbeatIntervalMs: 2000 });
  assert.deepEqual(c.autoscaler, { minWorkers: 2, maxWorkers: 10, scaleUpThreshold: 3, scaleDownThreshold: 2, checkIntervalMs: 30_000, cooldownMs: 30_000, actuator: { kind: 'none' } });
  assert.ok(Object.isFrozen(c.worker) && Object.isFrozen(c.autoscaler) && Object.isFrozen(c.autoscaler.actuator));
});

test('values are parsed; CHECK_INTERVAL and COOLDOWN_PERIOD take seconds or Go durations', () => {
  const c = loadConfig({ WORKER_ID: 'skyscale-worker-7d9f_2', MAX_CONCURRENT_EXECUTIONS: '4', HEARTBEAT_INTERVAL_MS: '500', MIN_WORKERS: '1', MAX_WORKERS: '1', SCALE_UP_THRESHOLD: '10', SCALE_DOWN_THRESHOLD: '0', CHECK_INTERVAL: '45', COOLDOWN_PERIOD: '1m30s' });
  assert.deepEqual(c.worker, { id: 'skyscale-worker-7d9f_2', maxConcurrentExecutions: 4, heartbeatIntervalMs: 500 });
  assert.equal(c.autoscaler.checkIntervalMs, 45_000);
  assert.equal(c.autoscaler.cooldownMs, 90_000);
  assert.equal(loadConfig({ CHECK_INTERVAL: '30s', COOLDOWN_PERIOD: '0' }).autoscaler.checkIntervalMs, 30_000);
  assert.equal(loadConfig({ CHECK_INTERVAL: '500ms' }).autoscaler.checkIntervalMs, 500);
  assert.equal(loadConfig({ COOLDOWN_PERIOD: '2h' }).autoscaler.cooldownMs, 7_200_000);
  assert.equal(loadConfig({ COOLDOWN_PERIOD: '0s' }).autoscaler.cooldownMs, 0);
});

test('actuators: each with what it needs', () => {
  assert.deepEqual(loadConfig({ AUTOSCALER_ACTUATOR: 'Local' }).autoscaler.actuator, { kind: 'local' });
  assert.deepEqual(loadConfig({ AUTOSCALER_ACTUATOR: 'command', AUTOSCALER_COMMAND: 'systemctl start skyscale-worker@$SKYSCALE_DESIRED_WORKERS' }).autoscaler.actuator, { kind: 'command', command: 'systemctl start skyscale-worker@$SKYSCALE_DESIRED_WORKERS' });
  assert.deepEqual(loadConfig({ AUTOSCALER_ACTUATOR: 'kubernetes', K8S_NAMESPACE: 'skyscale' }).autoscaler.actuator, { kind: 'kubernetes', namespace: 'skyscale', deployment: 'skyscale-worker' });
  assert.deepEqual(loadConfig({ AUTOSCALER_ACTUATOR: 'kubernetes', K8S_NAMESPACE: 'prod', K8S_DEPLOYMENT: 'workers.v2' }).autoscaler.actuator, { kind: 'kubernetes', namespace: 'prod', deployment: 'workers.v2' });
});

test('a bad distributed setting names its variable', () => {
  const bad: Array<[Record<string, string>, string]> = [
    [{ WORKER_ID: 'worker.1' }, 'WORKER_ID'],
    [{ WORKER_ID: 'a b' }, 'WORKER_ID'],
    [{ WORKER_ID: 'x'.repeat(129) }, 'WORKER_ID'],
    [{ MAX_CONCURRENT_EXECUTIONS: '0' }, 'MAX_CONCURRENT_EXECUTIONS'],
    [{ HEARTBEAT_INTERVAL_MS: '2s' }, 'HEARTBEAT_INTERVAL_MS'],
    [{ HEARTBEAT_INTERVAL_MS: '50' }, 'HEARTBEAT_INTERVAL_MS'],
    [{ MIN_WORKERS: '0' }, 'MIN_WORKERS'],
    [{ MIN_WORKERS: '3', MAX_WORKERS: '2' }, 'MAX_WORKERS'],
    [{ SCALE_UP_THRESHOLD: 'high' }, 'SCALE_UP_THRESHOLD'],
    [{ SCALE_UP_THRESHOLD: '2', SCALE_DOWN_THRESHOLD: '2' }, 'SCALE_DOWN_THRESHOLD'],
    [{ CHECK_INTERVAL: '30x' }, 'CHECK_INTERVAL'],
    [{ CHECK_INTERVAL: '1.5s' }, 'CHECK_INTERVAL'],
    [{ CHECK_INTERVAL: '0' }, 'CHECK_INTERVAL'],
    [{ CHECK_INTERVAL: '2h' }, 'CHECK_INTERVAL'],
    [{ COOLDOWN_PERIOD: '-5s' }, 'COOLDOWN_PERIOD'],
    [{ AUTOSCALER_ACTUATOR: 'docker' }, 'AUTOSCALER_ACTUATOR'],
    [{ AUTOSCALER_ACTUATOR: 'command' }, 'AUTOSCALER_COMMAND'],
    [{ AUTOSCALER_ACTUATOR: 'command', AUTOSCALER_COMMAND: '  ' }, 'AUTOSCALER_COMMAND'],
    [{ AUTOSCALER_ACTUATOR: 'kubernetes' }, 'K8S_NAMESPACE'],
    [{ AUTOSCALER_ACTUATOR: 'kubernetes', K8S_NAMESPACE: 'Prod' }, 'K8S_NAMESPACE'],
    [{ K8S_NAMESPACE: 'a_b' }, 'K8S_NAMESPACE'],
    [{ AUTOSCALER_ACTUATOR: 'kubernetes', K8S_NAMESPACE: 'prod', K8S_DEPLOYMENT: 'Workers' }, 'K8S_DEPLOYMENT'],
  ];
  for (const [env, variable] of bad) assertConfigError(env, variable);
});
