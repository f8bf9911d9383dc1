import { Command } from '@commander-js/extra-typings';
import { SkyscaleError, type DeclaredRoute, type Route, type RouteMethod } from '@skyscale/client';
import { contextOf, findFunction } from '../context.ts';
import { printJson, printTable } from '../output.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'ANY'];
const AUTHS = ['public', 'api_key'];
const EVENT_SHAPES = ['http', 'body'];
export const ROUTE_SYNTAX = '"METHOD /path [public|api_key] [http|body]"';

/**
 * `--route "POST /api/hello"`, `--route "GET /admin/* api_key"`, `--route "POST /api/hello body"`: method,
 * path, then in any order an auth and an event shape (the function's when left out).
 */
export function parseRoute(text: string): Route {
  const [method = '', path = '', ...options] = text.trim().split(/\s+/);
  const usage = (why: string) => new SkyscaleError(0, 'USAGE', `--route takes ${ROUTE_SYNTAX}, e.g. "POST /api/hello body"; ${why} in "${text}"`);
  if (!METHODS.includes(method.toUpperCase()) || !path.startsWith('/')) throw usage('a method and a path starting with / are needed');
  const route: Route = { method: method.toUpperCase() as RouteMethod, path };
  for (const option of options) {
    if (AUTHS.includes(option) && route.auth === undefined) route.auth = option as Route['auth'];
    else if (EVENT_SHAPES.includes(option) && route.eventShape === undefined) route.eventShape = option as Route['eventShape'];
    else throw usage(`"${option}" is not public, api_key, http or body (each at most once)`);
  }
  return route;
}

export const describeRoutes = (routes: DeclaredRoute[]): string =>
  routes.map((r) => `${r.method} ${r.path}${r.auth === 'api_key' ? ' (api key)' : ''}${r.eventShape === undefined ? '' : ` (${r.eventShape} event)`}`).join(', ');

export function routeCommands(): Command {
  const routes = new Command('routes').description("HTTP routes on the gateway (declared with fn deploy --route)");
  routes.command('list').description('All routes of your functions').action(async (_opts, cmd) => {
    const { client, out } = contextOf(cmd);
    const items = await client.listRoutes();
    printTable(out, { items }, ['method', 'path', 'function', 'auth', 'event'], items.map((r) => [r.method, r.path, r.functionName, r.auth, r.eventShape ?? null]));
  });
  routes
    .command('set')
    .description("Replace a function's routes and/or set its public flag, without a new version (live at once)")
    .argument('<function>', 'name or id')
    .option(`--route <${ROUTE_SYNTAX}>`, 'a route (repeatable); the given routes replace the current ones', (v: string, all: string[]) => [...all, v], [] as string[])
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
