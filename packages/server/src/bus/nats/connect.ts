import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

/** A setup problem retrying cannot fix (no JetStream, too old a server): its message says what to do. */
export class BusSetupError extends Error {}

/** host:port of each URL, for log lines (no credentials: a URL's user:password is dropped). */
export function describeServers(urls: readonly string[]): string {
  return urls.map((u) => {
    try {
      const url = new URL(u.includes('://') ? u : `nats://${u}`);
      return `${url.hostname}:${url.port || '4222'}`;
    } catch {
      return u;
    }
  }).join(', ');
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/** Backoff of the client's own reconnects once connected: reset by each successful reconnect. */
function reconnectBackoff(): { next(): number; reset(): void } {
  let attempt = 0;
  return {
    next: () => Math.min(250 * 2 ** attempt++, 5000),
    reset: () => void (attempt = 0),
  };
}

/**
 * Connects, retrying until `signal` aborts: one line per failed attempt, no stack. Once connected the
 * client reconnects forever by itself (buffering what is published meanwhile); losing and regaining the
 * server is logged once each.
 */
export async function connectWithRetry(urls: readonly string[], log: Log, signal?: AbortSignal): Promise<NatsConnection> {
  const where = describeServers(urls);
  let waitMs = FIRST_RETRY_MS;
  for (;;) {
    signal?.throwIfAborted();
    const backoff = reconnectBackoff();
    try {
      const nc = await connect({
        servers: [...urls],
        name: 'skyscale',
        maxReconnectAttempts: -1,
        reconnectDelayHandler: backoff.next,
        pingInterval: 10_000,
        maxPingOut: 2,
      });
      watchStatus(nc, where, log, backoff.reset);
      return nc;
    } catch (err) {
      signal?.throwIfAborted();
      const reason = err instanceof Error ? err.message : String(err);
      log.warn({ reason }, `NATS at ${where} is not reachable; retrying in ${waitMs / 1000}s`);
      await sleep(waitMs, signal);
      waitMs = Math.min(waitMs * 2, MAX_RETRY_MS);
    }
  }
}

function watchStatus(nc: NatsConnection, where: string, log: Log, reset: () => void): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') log.warn(`lost NATS at ${where}; reconnecting`);
      else if (status.type === 'reconnect') {
        reset();
        log.info(`reconnected to NATS at ${where}`);
      } else if (status.type === 'error') log.error({ reason: String(status.error) }, `NATS at ${where} reported an error`);
    }
  })().catch(() => {});
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
