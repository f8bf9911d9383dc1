import path from 'node:path';
import type { HostApi } from '../driver.ts';
import type { LoadMessage } from '../protocol.ts';
import { SANDBOX_PATHS } from './bwrap-args.ts';
import { openHostApi, type HostApiServer } from './host-api.ts';

/**
 * What an instance serves to its sandbox besides the protocol: the host API, on a socket in the
 * instance's services directory. Closed when the process exits; one opened after that is closed at once.
 */
export class InstancePorts {
  readonly #servicesDir: string;
  readonly #bwrap: boolean;
  #hostApi: HostApiServer | null = null;
  #closed = false;

  constructor(servicesDir: string, bwrap: boolean) {
    this.#servicesDir = servicesDir;
    this.#bwrap = bwrap;
  }

  /** Serves the host API to the sandbox; `active()` false refuses every request (no execution in flight). */
  async openHostApi(api: HostApi, active: () => boolean): Promise<void> {
    const server = await openHostApi(path.join(this.#servicesDir, 'api.sock'), api, active);
    this.#hostApi = server;
    if (this.#closed) server.close();
  }

  /** Where the bootstrap finds the host API, and how many connections it forwards at once (the load message's `api`). */
  hostApiAddress(maxConnections: number): NonNullable<LoadMessage['api']> {
    // Unsandboxed there is no private network namespace: the forwarder must stay on the host's loopback.
    return this.#bwrap ? { socket: `${SANDBOX_PATHS.services}/api.sock`, maxConnections } : { socket: path.join(this.#servicesDir, 'api.sock'), host: '127.0.0.1', maxConnections };
  }

  close(): void {
    this.#closed = true;
    this.#hostApi?.close();
  }
}
