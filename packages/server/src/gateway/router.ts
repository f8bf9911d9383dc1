import { parsePattern, ROUTE_METHODS, type RouteAuth, type RouteMethod } from '../functions/route-pattern.ts';
import type { EventShape } from '../core/types.ts';

/** One declared route and the function it invokes, as the gateway holds it. */
export interface RouteEntry {
  method: RouteMethod;
  path: string;
  auth: RouteAuth;
  /** Absent: the function's own event shape applies. */
  eventShape?: EventShape;
  functionId: string;
  functionName: string;
  ownerId: string;
}

export type Lookup =
  | { kind: 'match'; route: RouteEntry; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allow: string[] }
  | { kind: 'not_found' };

interface Leaf {
  route: RouteEntry;
  /** Names of the values captured on the way, in order (`*` for the wildcard's rest). */
  names: string[];
}

type Leaves = Map<string, Leaf>;

class Node {
  statics: Map<string, Node> | null = null;
  param: Node | null = null;
  wildcard: Leaves | null = null;
  leaves: Leaves | null = null;
}

const CONCRETE_METHODS = ROUTE_METHODS.filter((m) => m !== 'ANY');

function pick(leaves: Leaves | null, method: string): Leaf | undefined {
  if (leaves === null) return undefined;
  return leaves.get(method) ?? (method === 'HEAD' ? leaves.get('GET') : undefined) ?? leaves.get('ANY');
}

/**
 * An immutable segment trie. Each segment tries a static child, then the parameter child, then a
 * wildcard, backtracking when a branch has no route for the method; so precedence is per segment and
 * per method. Built once per routing-table version and never mutated: a swap is one reference store.
 */
export class Router {
  readonly #root = new Node();
  /** Fully static paths: one map lookup answers them, and the trie's precedence would pick them first anyway. */
  readonly #exact = new Map<string, Leaves>();
  readonly size: number;
  /** Routes left out because an earlier one already claimed their shape and method (a deploy race). */
  readonly skipped: RouteEntry[] = [];

  constructor(routes: Iterable<RouteEntry>) {
    let size = 0;
    for (const route of routes) if (this.#insert(route)) size++;
    this.size = size;
  }

  #insert(route: RouteEntry): boolean {
    let node = this.#root;
    const names: string[] = [];
    let target: 'leaves' | 'wildcard' = 'leaves';
    const segments = parsePattern(route.path);
    for (const segment of segments) {
      if (segment.kind === 'static') {
        node.statics ??= new Map();
        let child = node.statics.get(segment.value);
        if (child === undefined) node.statics.set(segment.value, (child = new Node()));
        node = child;
      } else if (segment.kind === 'param') {
        names.push(segment.name);
        node = node.param ??= new Node();
      } else {
        names.push('*');
        target = 'wildcard';
      }
    }
    const leaves = (node[target] ??= new Map());
    const clash = route.method === 'ANY' ? leaves.size > 0 : leaves.has(route.method) || leaves.has('ANY');
    if (clash) {
      this.skipped.push(route);
      return false;
    }
    const leaf = { route, names };
    leaves.set(route.method, leaf);
    if (segments.every((s) => s.kind === 'static')) {
      const exact = this.#exact.get(route.path) ?? new Map<string, Leaf>();
      exact.set(route.method, leaf);
      this.#exact.set(route.path, exact);
    }
    return true;
  }

  /** `path` is the raw request path without its query: percent-encoded, starting with "/". */
  find(method: string, rawPath: string): Lookup {
    const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
    const exact = pick(this.#exact.get(path) ?? null, method);
    if (exact !== undefined) return { kind: 'match', route: exact.route, params: {} };
    if (path.includes('//')) return { kind: 'not_found' };
    const values: string[] = [];
    const leaf = walk(this.#root, path, 1, method, values);
    if (leaf !== undefined) {
      const params: Record<string, string> = {};
      for (let i = 0; i < leaf.names.length; i++) params[leaf.names[i]] = values[i];
      return { kind: 'match', route: leaf.route, params };
    }
    const allow = CONCRETE_METHODS.filter((m) => m !== method && walk(this.#root, path, 1, m, []) !== undefined);
    return allow.length > 0 ? { kind: 'method_not_allowed', allow } : { kind: 'not_found' };
  }
}

function walk(node: Node, path: string, pos: number, method: string, values: string[]): Leaf | undefined {
  if (pos >= path.length) {
    const leaf = pick(node.leaves, method);
    if (leaf !== undefined) return leaf;
    const rest = pick(node.wildcard, method);
    if (rest !== undefined) values.push('');
    return rest;
  }
  let end = path.indexOf('/', pos);
  if (end === -1) end = path.length;
  if (node.statics !== null) {
    const child = node.statics.get(path.slice(pos, end));
    if (child !== undefined) {
      const leaf = walk(child, path, end + 1, method, values);
      if (leaf !== undefined) return leaf;
    }
  }
  if (node.param !== null) {
    values.push(path.slice(pos, end));
    const leaf = walk(node.param, path, end + 1, method, values);
    if (leaf !== undefined) return leaf;
    // Deeper levels undo their own captures when they fail: only this one is left.
    values.pop();
  }
  const rest = pick(node.wildcard, method);
  if (rest !== undefined) values.push(path.slice(pos));
  return rest;
}
