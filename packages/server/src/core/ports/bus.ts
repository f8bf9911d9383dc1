/**
 * How components in different roles (or processes) hear of each other's events. The embedded mode's
 * bus is in-process (bus/memory-bus.ts); distributed mode's is NATS. Subjects and payloads are
 * listed in core/events.ts; payloads are JSON text so any bus can carry them.
 */
export interface Bus {
  /**
   * Delivers `data` to every subscriber of `subject`. Resolves once the bus has taken the message;
   * the in-process bus resolves after its subscribers' handlers have run (so a change is applied
   * locally before the API answers).
   */
  publish(subject: string, data: string): Promise<void>;
  /** Handlers run one message at a time per subscription, in publish order; a handler that throws is logged, not retried. */
  subscribe(subject: string, handler: (data: string) => void | Promise<void>): Subscription;
  /** Stops delivery to every subscription. */
  close(): Promise<void>;
}

export interface Subscription {
  unsubscribe(): void;
}
