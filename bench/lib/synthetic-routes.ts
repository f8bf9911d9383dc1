import type { RouteEntry } from '../../packages/server/src/gateway/router.ts';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;

/** `count` routes in four kinds (static, one param, two params, wildcard) and a request path matching each. */
export function syntheticRoutes(count: number): { routes: RouteEntry[]; requests: Array<{ method: string; path: string }> } {
  const routes: RouteEntry[] = [];
  const requests: Array<{ method: string; path: string }> = [];
  for (let i = 0; i < count; i++) {
    const method = METHODS[i % 4];
    let path: string;
    let request: string;
    switch (i % 4) {
      case 0:
        path = `/svc${i}/items`;
        request = path;
        break;
      case 1:
        path = `/svc${i}/items/:id`;
        request = `/svc${i}/items/42`;
        break;
      case 2:
        path = `/api/v${i % 10}/res${i}/:id/sub/:sub`;
        request = `/api/v${i % 10}/res${i}/7/sub/x`;
        break;
      default:
        path = `/static${i}/*`;
        request = `/static${i}/css/site.css`;
    }
    routes.push({ method, path, auth: 'public', functionId: `fn-${i}`, functionName: `fn-${i}`, ownerId: `owner-${i % 100}` });
    requests.push({ method, path: request });
  }
  return { routes, requests };
}
