import type { Bus, Subscription } from './ports/bus.ts';

/** Every event that crosses components, by subject. */
export interface PlatformEvents {
  /** A function and its versions are gone: workers stop its instances, the object store removes its files. */
  'functions.deleted': { functionId: string; ownerId: string };
  /** A new version of a function is current: every process drops its cached definition. */
  'functions.changed': { functionId: string };
  /** An API key was revoked: every process drops it from its cache of authenticated keys. */
  'apiKeys.revoked': { keyId: string };
  /** Routes or public names changed in the store: gateways reload their routing table. */
  'routes.changed': Record<string, never>;
  /**
   * Async work was committed: a consumer may look now instead of at its next poll. In distributed mode
   * the same payload is the outbox row that announces the execution on the work queue.
   */
  'executions.queued': { executionId: string; ownerId: string };
}

export type EventSubject = keyof PlatformEvents;

export function publish<S extends EventSubject>(bus: Bus, subject: S, event: PlatformEvents[S]): Promise<void> {
  return bus.publish(subject, JSON.stringify(event));
}

export function subscribe<S extends EventSubject>(bus: Bus, subject: S, handler: (event: PlatformEvents[S]) => void | Promise<void>): Subscription {
  return bus.subscribe(subject, (data) => handler(JSON.parse(data) as PlatformEvents[S]));
}
