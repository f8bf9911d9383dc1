import type { ScaleReason } from '../decide.ts';

/** What carries out the autoscaler's decisions (AUTOSCALER_ACTUATOR; docs/deploy.md, The autoscaler). */
export interface Actuator {
  /** Its name in the logs: none, local, kubernetes, command. */
  readonly kind: string;
  /**
   * The worker count it has asked for and not yet taken back (a Deployment's spec.replicas, the local
   * processes that are not draining), or null when it cannot tell (`command` before its first run,
   * `none`). The loop skips scaleTo() when this is already the count wanted.
   */
  current(): Promise<number | null>;
  /** Asks for `n` workers. Resolves once asked (not once they are ready); rejects if it could not. */
  scaleTo(n: number, reason: ScaleReason): Promise<void>;
  /** Releases what it holds (the local actuator drains its processes). Optional. */
  stop?(): Promise<void>;
}
