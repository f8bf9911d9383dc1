import type { Logger } from 'pino';
import type { ActuatorSettings } from '../../config/options.ts';
import type { Actuator } from './actuator.ts';
import { CommandActuator } from './command.ts';
import { KubernetesActuator } from './kubernetes.ts';
import { LocalActuator, type LocalActuatorOptions } from './local.ts';
import { NoActuator } from './none.ts';

export type { Actuator } from './actuator.ts';
export { CommandActuator } from './command.ts';
export { KubernetesActuator } from './kubernetes.ts';
export { LocalActuator } from './local.ts';
export { NoActuator } from './none.ts';

export interface ActuatorDeps {
  readonly log: Logger;
  /** Overrides for the local actuator (its command, environment, drain timeout); the defaults run this checkout's worker. */
  readonly local?: Omit<LocalActuatorOptions, 'log'>;
}

/** The actuator AUTOSCALER_ACTUATOR names, configured from the parsed settings (config/distributed.ts). */
export function createActuator(settings: ActuatorSettings, deps: ActuatorDeps): Actuator {
  const log = deps.log.child({ component: 'autoscaler', actuator: settings.kind });
  switch (settings.kind) {
    case 'none':
      return new NoActuator(log);
    case 'local':
      return new LocalActuator({ ...deps.local, log });
    case 'kubernetes':
      return new KubernetesActuator({ log, namespace: settings.namespace, deployment: settings.deployment });
    case 'command':
      return new CommandActuator({ log, command: settings.command });
  }
}
