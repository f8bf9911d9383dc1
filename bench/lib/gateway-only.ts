// The gateway alone, for measuring its own overhead: a routing table of 10,000 routes and a backend
// that answers every invocation at once, on raw node:http or mounted in a Fastify instance.
// Usage: node bench/lib/gateway-only.ts <http|fastify> <port>
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { pino } from 'pino';
import { GatewayServer } from '../../packages/server/src/gateway/server.ts';
import { LiveRoutes } from '../../packages/server/src/gateway/routing-table.ts';
import { syntheticRoutes } from './synthetic-routes.ts';

const [mode, portArg] = process.argv.slice(2);
const port = Number(portArg);
const log = pino({ level: 'silent' });
const routes = [{ method: 'GET' as const, path: '/hello', auth: 'public' as const, functionId: 'hello', functionName: 'hello', ownerId: 'bench' }, ...syntheticRoutes(10_000).routes];
const live = new LiveRoutes({ generation: async () => 1, snapshot: async () => ({ generation: 1, routes, publicFunctions: [] }) }, log);
await live.refresh();
const result = { hello: 'bench' };
const gateway = new GatewayServer({
  routes: live,
  maxBodyBytes: 6 * 1024 * 1024,
  log,
  backend: {
    authenticate: async () => {
      throw new Error('no keys here');
    },
    functionIdByName: async () => undefined,
    eventShape: async () => 'http',
    invoke: async () => ({ id: randomUUID(), status: 'succeeded', result, error: null }),
  },
});
if (mode === 'fastify') {
  const app = Fastify({ logger: false });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: '/*', handler: (request, reply) => {
    reply.hijack();
    void gateway.handleRequest(request.raw, reply.raw);
  } });
  await app.listen({ host: '127.0.0.1', port });
} else {
  await gateway.listen('127.0.0.1', port);
}
