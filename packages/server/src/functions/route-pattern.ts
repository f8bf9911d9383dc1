import { AppError } from '../core/errors.ts';
import { EVENT_SHAPES, ROUTE_AUTH, ROUTE_METHODS, type EventShape, type FunctionRoute, type RouteAuth, type RouteMethod } from '../core/types.ts';

/**
 * HTTP routes a function declares, `{method, path}`: static segments, `:param` segments and a trailing
 * `*` wildcard. The gateway is one namespace for every owner, so two routes conflict when their shapes
 * are equal (`/users/:id` and `/users/:name` are both `/users/:`) and their methods overlap (equal, or
 * either is ANY). Any other pair is resolved by precedence at each segment: static, then param, then
 * wildcard (docs/gateway.md), so no further ambiguity exists.
 */
export { ROUTE_AUTH, ROUTE_METHODS, type RouteAuth, type RouteMethod };

export type Segment = { kind: 'static'; value: string } | { kind: 'param'; name: string } | { kind: 'wildcard' };

/** First path segments the platform keeps for itself on the gateway. */
export const RESERVED_PREFIXES = ['function', 'ws', '_skyscale'] as const;
export const MAX_ROUTES_PER_FUNCTION = 50;
const MAX_PATH_LENGTH = 512;
const MAX_SEGMENTS = 32;
const STATIC_RE = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;
const PARAM_RE = /^:([A-Za-z_][A-Za-z0-9_]{0,63})$/;

const invalid = (message: string) => new AppError('VALIDATION_FAILED', message);

/** Splits a checked pattern into segments; throws VALIDATION_FAILED naming what is wrong. */
export function parsePattern(path: string): Segment[] {
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalid(`route path "${String(path).slice(0, 64)}" must start with "/"`);
  if (path.length > MAX_PATH_LENGTH) throw invalid(`route path is longer than ${MAX_PATH_LENGTH} characters`);
  if (path === '/') return [];
  if (path.endsWith('/')) throw invalid(`route path "${path.slice(0, 64)}" must not end with "/"`);
  const parts = path.slice(1).split('/');
  if (parts.length > MAX_SEGMENTS) throw invalid(`route path has more than ${MAX_SEGMENTS} segments`);
  const names = new Set<string>();
  const segments = parts.map((part, i): Segment => {
    if (part === '*') {
      if (i !== parts.length - 1) throw invalid(`"*" must be the last segment of route path "${path.slice(0, 64)}"`);
      return { kind: 'wildcard' };
    }
    const param = PARAM_RE.exec(part);
    if (param !== null) {
      if (names.has(param[1])) throw invalid(`route path "${path.slice(0, 64)}" repeats the parameter ":${param[1]}"`);
      names.add(param[1]);
      return { kind: 'param', name: param[1] };
    }
    if (part === '' || part === '.' || part === '..' || !STATIC_RE.test(part)) {
      throw invalid(`route path segment "${part.slice(0, 64)}" must be a name of letters, digits and -._~!$&'()+,;=@, a ":param" or a final "*"`);
    }
    return { kind: 'static', value: part };
  });
  const first = segments[0];
  if (first.kind === 'static' && (RESERVED_PREFIXES as readonly string[]).includes(first.value)) {
    throw invalid(`route paths below /${first.value} are reserved by the platform`);
  }
  return segments;
}

/** The pattern with parameter names erased: routes with equal shapes match exactly the same requests. */
export function shapeOf(segments: Segment[]): string {
  return '/' + segments.map((s) => (s.kind === 'static' ? s.value : s.kind === 'param' ? ':' : '*')).join('/');
}

export const methodsOverlap = (a: RouteMethod, b: RouteMethod): boolean => a === b || a === 'ANY' || b === 'ANY';

/** A function's or a route's event shape; undefined (or null, a route that follows its function) passes as undefined. */
export function checkEventShape(value: unknown, field = 'eventShape'): EventShape | undefined {
  if (value === undefined || value === null) return undefined;
  if (!(EVENT_SHAPES as readonly unknown[]).includes(value)) throw invalid(`${field} must be one of ${EVENT_SHAPES.join(', ')}`);
  return value as EventShape;
}

/** A route written `"METHOD /path"` (CLI, docs) or an object; method upper-cased, auth defaulted to public. */
export function checkRoute(input: { method?: unknown; path?: unknown; auth?: unknown; eventShape?: unknown }): FunctionRoute & { shape: string } {
  const method = typeof input.method === 'string' ? input.method.toUpperCase() : '';
  if (!(ROUTE_METHODS as readonly string[]).includes(method)) throw invalid(`route method must be one of ${ROUTE_METHODS.join(', ')}`);
  const auth = input.auth ?? 'public';
  if (!(ROUTE_AUTH as readonly unknown[]).includes(auth)) throw invalid(`route auth must be one of ${ROUTE_AUTH.join(', ')}`);
  const path = String(input.path ?? '');
  const eventShape = checkEventShape(input.eventShape, 'route eventShape');
  return { method: method as RouteMethod, path, auth: auth as RouteAuth, ...(eventShape === undefined ? {} : { eventShape }), shape: shapeOf(parsePattern(path)) };
}
