import type { Logger } from 'pino';
import type { ScaleReason } from '../decide.ts';
import type { Actuator } from './actuator.ts';

/**
 * AUTOSCALER_ACTUATOR=none: changes nothing. Each decision is logged (the loop's info line, and this
 * one naming what the operator or the orchestrator should do); the metrics carry the wanted count.
 * current() is null, so a change still wanted is logged again once per COOLDOWN_PERIOD.
 */
export class NoActuator implements Actuator {
  readonly kind = 'none';
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  async current(): Promise<number | null> {
    return null;
  }

  async scaleTo(n: number, reason: ScaleReason): Promise<void> {
    this.#log.info({ desired: n, reason }, `autoscaler: would scale to ${n} workers (AUTOSCALER_ACTUATOR=none: size the workers yourself)`);
  }
}
