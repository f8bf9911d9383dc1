import type { Logger } from 'pino';
import type { BusConfig } from '../config/options.ts';
import type { Bus } from '../core/ports/bus.ts';
import { MemoryBus } from './memory-bus.ts';
import { BusSetupError, connectWithRetry, describeServers } from './nats/connect.ts';
import { NatsBus } from './nats/nats-bus.ts';
import { guardServer } from './nats/server-guard.ts';

export { BusSetupError } from './nats/connect.ts';

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

/** The bus BusConfig names: in-process, or NATS (retrying until reachable, until `signal` aborts). */
export async function openBus(config: BusConfig, log: Log, signal?: AbortSignal): Promise<Bus> {
  if (config.kind === 'memory') return new MemoryBus(log);
  return connectBusWithRetry(config.urls, log, signal);
}

/**
 * Connects to NATS (one log line per failed attempt, with backoff) and checks the server (server-guard.ts).
 * A server that lacks what the bus needs rejects with a BusSetupError saying what to change.
 */
export async function connectBusWithRetry(url: string | readonly string[], log: Log, signal?: AbortSignal): Promise<NatsBus> {
  const urls = typeof url === 'string' ? url.split(',').map((u) => u.trim()).filter((u) => u !== '') : url;
  const nc = await connectWithRetry(urls, log, signal);
  try {
    const { facts, jsm } = await guardServer(nc, describeServers(urls));
    log.info({ version: facts.version, maxPayload: nc.info?.max_payload }, `connected to NATS at ${describeServers(urls)}`);
    return new NatsBus(nc, jsm, facts, log);
  } catch (err) {
    await nc.close().catch(() => {});
    if (err instanceof BusSetupError) throw err;
    throw new BusSetupError(`NATS at ${describeServers(urls)} failed its start-up checks: ${(err as Error).message}`, { cause: err });
  }
}
