/** createActuator(): AUTOSCALER_ACTUATOR, as config/distributed.ts parses it, to the actuator. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandActuator, createActuator, KubernetesActuator, LocalActuator, NoActuator } from '../../src/autoscaler/actuators/index.ts';
import { autoscalerSettings } from '../../src/config/distributed.ts';
import { captureLog } from './log-capture.ts';

test('each AUTOSCALER_ACTUATOR gives its actuator, configured from the settings', async () => {
  const { log, messages } = captureLog();
  const make = (env: Record<string, string>) => createActuator(autoscalerSettings(env).actuator, { log });
  const none = make({});
  assert.ok(none instanceof NoActuator);
  assert.equal(await none.current(), null);
  await none.scaleTo(4, 'scale_up');
  assert.ok(messages('info').some((m) => /would scale to 4 workers/.test(m)));
  assert.ok(make({ AUTOSCALER_ACTUATOR: 'local' }) instanceof LocalActuator);
  assert.ok(make({ AUTOSCALER_ACTUATOR: 'command', AUTOSCALER_COMMAND: 'true' }) instanceof CommandActuator);
  const k8s = make({ AUTOSCALER_ACTUATOR: 'kubernetes', K8S_NAMESPACE: 'prod' });
  assert.ok(k8s instanceof KubernetesActuator);
  assert.equal(k8s.scalePath, '/apis/apps/v1/namespaces/prod/deployments/skyscale-worker/scale');
  assert.deepEqual([none.kind, k8s.kind], ['none', 'kubernetes']);
});
