import { chmod, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../../core/errors.ts';
import type { HostApi } from '../driver.ts';

export interface HostApiServer {
  close(): void;
}

const REFUSED: ErrorCode = 'TOO_MANY_CONNECTIONS';
const REFUSAL_BODY = JSON.stringify({ error: { code: REFUSED, message: 'Too many connections to the host API are open: reuse them, or close some' } });
const REFUSAL = `HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(REFUSAL_BODY)}\r\nconnection: close\r\n\r\n${REFUSAL_BODY}`;

/**
 * Serves the host API on a Unix socket in the instance's services directory, which the sandbox sees
 * read-only (a socket needs no write access to its mount). Only the instance can reach it: the
 * directory is that instance's, and its loopback forwarder is the only way in from its network.
 * Outside a load or an invocation (`active()` false) every request is refused.
 *
 * Each connection costs the platform a descriptor. The bootstrap forwards at most `maxConnections`;
 * twice that is the bound for code that connects to the socket itself (the forwarder's count drops a
 * moment before the host sees a connection close). Past it, or past the shared budget, a connection
 * is answered 429 and closed at once.
 */
export async function openHostApi(socketPath: string, api: HostApi, active: () => boolean): Promise<HostApiServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 10_000 }, (request, response) => {
    if (!active()) {
      response.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"no execution of this function is in progress"}');
      return;
    }
    api.listener(request, response);
  });
  server.on('connection', (socket: Socket) => {
    if (sockets.size >= 2 * api.maxConnections || (api.budget !== undefined && !api.budget.tryTake())) {
      socket.on('error', () => {});
      socket.write(REFUSAL);
      socket.destroySoon();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      api.budget?.giveBack();
    });
  });
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Out of descriptors, libuv refuses connections by itself; an 'error' left unheard would end the platform.
  server.on('error', () => {});
  // The sandbox runs as another uid; the directory around the socket is what keeps others out.
  await chmod(socketPath, 0o666);
  return {
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
