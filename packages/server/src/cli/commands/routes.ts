import { Command } from '@commander-js/extra-typings';
import { SkyscaleError, type Route, type RouteMethod } from '@skyscale/client';
import { contextOf, findFunction } from '../context.ts';
import { printJson, printTable } from '../output.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'ANY'];

/** `--route "POST /api/hello"` or `--route "GET /admin/* api_key"`: method, path, optional auth. */
export function parseRoute(text: string): Route {
  const parts = text.trim().split(/\s+/);
  const [method, path, auth] = parts;
  if (parts.length < 2 || parts.length > 3 || !METHODS.includes(method.toUpperCase()) || !path.startsWith('/')) {
    throw new SkyscaleError(0, 'USAGE', `--route takes "METHOD /path [public|api_key]", e.g. "POST /api/hello"; got "${text}"`);
  }
  if (auth !== undefined && auth !== 'public' && auth !== 'api_key') throw new SkyscaleError(0, 'USAGE', `route auth is public or api_key, got "${auth}"`);
  return { method: method.toUpperCase() as RouteMethod, path, ...(auth === undefined ? {} : { auth }) };
}

export const describeRoutes = (routes: Array<Required<Route>>): string => routes.map((r) => `${r.method} ${r.path}${r.auth === 'api_key' ? ' (api key)' : ''}`).join(', ');

export function routeCommands(): Command {
  const routes = new Command('routes').description("HTTP routes on the gateway (declared with fn deploy --route)");
  routes.command('list').description('All routes of your functions').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const items = await client.listRoutes();
    printTable(out, { items }, ['method', 'path', 'function', 'auth'], items.map((r) => [r.method, r.path, r.functionName, r.auth]));
  });
  routes
    .command('set')
    .description("Replace a function's routes and/or set its public flag, without a new version (live at once)")
    .argument('<function>', 'name or id')
    .option('--route <"METHOD /path [api_key]">', 'a route (repeatable); the given routes replace the current ones', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--clear', 'remove all routes')
    .option('--public', 'anyone may call it at /function/<name> on the gateway')
    .option('--no-public', 'only you (with your API key) may call it at /function/<name>')
    .action(async (ref, opts, cmd) => {
      const { client, out } = contextOf(cmd);
      if (opts.clear === true && opts.route.length > 0) throw new SkyscaleError(0, 'USAGE', '--clear and --route do not go together');
      const change = { routes: opts.clear === true ? [] : opts.route.length > 0 ? opts.route.map(parseRoute) : undefined, public: opts.public };
      if (change.routes === undefined && change.public === undefined) throw new SkyscaleError(0, 'USAGE', 'give --route, --clear, --public or --no-public');
      const fn = await findFunction(client, ref);
      const result = await client.setRoutes(fn.id, change);
      if (out.json) return printJson(result);
      process.stdout.write(`${fn.name}: ${result.routes.length > 0 ? `routes ${describeRoutes(result.routes)}` : 'no routes'}${result.public ? `; public at /function/${fn.name}` : ''}\n`);
    });
  return routes as unknown as Command;
}
