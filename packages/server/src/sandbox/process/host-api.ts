import { chmod, rm } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import type { Socket } from 'node:net';

export interface HostApiServer {
  close(): void;
}

/**
 * Serves `listener` on a Unix socket in the instance's services directory, which the sandbox sees
 * read-only (a socket needs no write access to its mount). Only the instance can reach it: the
 * directory is that instance's, and its loopback forwarder is the only way in from its network.
 * Outside a load or an invocation (`active()` false) every request is refused.
 */
export async function openHostApi(socketPath: string, listener: RequestListener, active: () => boolean): Promise<HostApiServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ requestTimeout: 60_000, headersTimeout: 10_000 }, (request, response) => {
    if (!active()) {
      response.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"no execution of this function is in progress"}');
      return;
    }
    listener(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The sandbox runs as another uid; the directory around the socket is what keeps others out.
  await chmod(socketPath, 0o666);
  return {
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
