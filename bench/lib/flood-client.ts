// A connection flood in its own process (a process has only so many descriptors): opens idle TCP
// connections to a port, round-robin from the given local addresses, prints a line once they have
// settled, and holds them until its stdin closes. (Its own count of open ones is not the server's:
// connections the listen queue had no room for look established here; the bench counts the server's descriptors.)
// Usage: node bench/lib/flood-client.ts <port> <count> <address,address,...>
import { connect, type Socket } from 'node:net';

const [portArg, countArg, addressesArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const addresses = addressesArg!.split(',');
const sockets: Socket[] = [];
let closed = 0;

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: addresses[i % addresses.length] });
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.once('close', () => {
      closed++;
      resolve();
    });
    socket.once('connect', () => resolve());
  });
}

const started = performance.now();
for (let i = 0; i < count; i += 500) await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => open(i + j)));
const openMs = performance.now() - started;
await new Promise((resolve) => setTimeout(resolve, 2000));
process.stdout.write(`${JSON.stringify({ attempted: count, open: count - closed, openMs: Math.round(openMs) })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
