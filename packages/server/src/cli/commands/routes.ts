import { Command } from '@commander-js/extra-typings';
import { SkyscaleError, type Route, type RouteMethod } from '@skyscale/client';
import { contextOf } from '../context.ts';
import { printTable } from '../output.ts';

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
  return routes as unknown as Command;
}
