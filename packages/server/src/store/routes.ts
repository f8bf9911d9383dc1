import type { Transaction } from 'kysely';
import type { Db } from './db.ts';
import type { Database } from './schema.ts';
import type { EventShape, Exposure, FunctionRoute, RouteAuth, RouteMethod } from '../core/types.ts';
import { asExposureConflict } from './constraints.ts';
import { isPostgres } from './migrations/dialect.ts';

import { ExposureConflictError, type ExposureChange, type GatewaySnapshot, type NewRoute, type RouteStore } from '../core/ports/store.ts';

export { ExposureConflictError, type GatewayRoute, type GatewaySnapshot, type NewRoute, type PublicFunction } from '../core/ports/store.ts';

type Trx = Transaction<Database>;

const publicKey = (name: string): string => name.toLowerCase();
const sameRoutes = (a: FunctionRoute[], b: FunctionRoute[]): boolean => {
  const key = (r: FunctionRoute) => `${r.method} ${r.path} ${r.auth} ${r.eventShape ?? ''}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, i) => k === right[i]);
};

async function bump(trx: Trx): Promise<void> {
  await trx.updateTable('gateway_state').set((eb) => ({ generation: eb('generation', '+', 1) })).where('id', '=', 1).execute();
}

/**
 * Sets a function's routes and/or public flag inside the caller's transaction (undefined leaves that part
 * alone). Conflicts with any owner's routes or public names throw ExposureConflictError. Every change bumps
 * the generation in the same transaction, so a gateway that sees the new generation sees the change.
 */
export async function writeExposure(trx: Trx, input: { functionId: string; ownerId: string; name: string; at: string; routes?: NewRoute[]; public?: boolean }): Promise<boolean> {
  let changed = false;
  // PostgreSQL: exposure writers of every process queue on the generation row, so the reads below (each
  // statement sees what committed before it, READ COMMITTED) are not raced. ANY-method overlaps are only
  // checked here; same method and shape, and public names, are also unique constraints (asExposureConflict).
  if ((input.routes !== undefined || input.public !== undefined) && isPostgres(trx)) {
    await trx.selectFrom('gateway_state').select('id').where('id', '=', 1).forUpdate().execute();
  }
  if (input.routes !== undefined) {
    const current = await trx.selectFrom('function_routes').select(['method', 'path', 'auth', 'event_shape']).where('function_id', '=', input.functionId).execute();
    if (!sameRoutes(current.map(toRoute), input.routes)) {
      await trx.deleteFrom('function_routes').where('function_id', '=', input.functionId).execute();
      const shapes = [...new Set(input.routes.map((r) => r.shape))];
      const taken = shapes.length === 0 ? [] : await trx.selectFrom('function_routes').select(['method', 'path', 'shape']).where('shape', 'in', shapes).execute();
      for (const route of input.routes) {
        const clash = taken.find((t) => t.shape === route.shape && (t.method === route.method || t.method === 'ANY' || route.method === 'ANY'));
        if (clash !== undefined) {
          throw new ExposureConflictError('route', `Route ${route.method} ${route.path} conflicts with the existing route ${clash.method} ${clash.path}`, {
            route: { method: route.method, path: route.path },
            conflictsWith: { method: clash.method, path: clash.path },
          });
        }
      }
      if (input.routes.length > 0) {
        await trx
          .insertInto('function_routes')
          .values(input.routes.map((r, i) => ({ id: `${input.functionId}:${input.at}:${i}`, function_id: input.functionId, owner_id: input.ownerId, method: r.method, path: r.path, shape: r.shape, auth: r.auth, event_shape: r.eventShape ?? null, created_at: input.at })))
          .execute();
      }
      changed = true;
    }
  }
  if (input.public !== undefined) {
    const holder = await trx.selectFrom('public_functions').select('function_id').where('name_key', '=', publicKey(input.name)).executeTakeFirst();
    if (input.public && holder === undefined) {
      await trx.insertInto('public_functions').values({ name_key: publicKey(input.name), name: input.name, function_id: input.functionId, owner_id: input.ownerId, created_at: input.at }).execute();
      changed = true;
    } else if (input.public && holder?.function_id !== input.functionId) {
      throw new ExposureConflictError('public_name', `Another public function is already named ${input.name}`, { name: input.name });
    } else if (!input.public && holder?.function_id === input.functionId) {
      await trx.deleteFrom('public_functions').where('function_id', '=', input.functionId).execute();
      changed = true;
    }
  }
  if (changed) await bump(trx);
  return changed;
}

/** Before a function is deleted (its rows go by cascade): bumps the generation when it had any exposure. */
export async function dropExposure(trx: Trx, functionId: string): Promise<boolean> {
  const route = await trx.selectFrom('function_routes').select('id').where('function_id', '=', functionId).limit(1).executeTakeFirst();
  const name = await trx.selectFrom('public_functions').select('name').where('function_id', '=', functionId).executeTakeFirst();
  if (route === undefined && name === undefined) return false;
  await bump(trx);
  return true;
}

function toRoute(r: { method: string; path: string; auth: string; event_shape: string | null }): FunctionRoute {
  const route: FunctionRoute = { method: r.method as RouteMethod, path: r.path, auth: r.auth as RouteAuth };
  if (r.event_shape !== null) route.eventShape = r.event_shape as EventShape;
  return route;
}

/** Reads of routes and public names; writes happen inside function transactions (writeExposure). */
export class RouteRepository implements RouteStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  /** Sets an owner's function's routes and/or public flag without a new version; false when there is no such function. */
  async setExposure(ownerId: string, functionId: string, change: ExposureChange, at: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const fn = await trx.selectFrom('functions').select('name').where('id', '=', functionId).where('owner_id', '=', ownerId).executeTakeFirst();
      if (fn === undefined) return false;
      await writeExposure(trx, { functionId, ownerId, name: fn.name, at, ...change });
      return true;
    }).catch((err: unknown) => {
      throw asExposureConflict(err);
    });
  }

  /** One indexed row: what gateways poll to notice another process's changes. */
  async generation(): Promise<number> {
    const row = await this.#db.selectFrom('gateway_state').select('generation').where('id', '=', 1).executeTakeFirstOrThrow();
    return row.generation;
  }

  /** Every route and public name, with the generation they belong to (one consistent read). */
  async snapshot(): Promise<GatewaySnapshot> {
    // Read-only: it never waits for the write lock another process may hold.
    return this.#db.transaction().setAccessMode('read only').execute(async (trx) => {
      const { generation } = await trx.selectFrom('gateway_state').select('generation').where('id', '=', 1).executeTakeFirstOrThrow();
      const routes = await trx
        .selectFrom('function_routes as r')
        .innerJoin('functions as f', 'f.id', 'r.function_id')
        .select(['r.method', 'r.path', 'r.auth', 'r.event_shape', 'r.function_id', 'f.name', 'f.owner_id'])
        .orderBy('r.created_at')
        .orderBy('r.id')
        .execute();
      const names = await trx.selectFrom('public_functions').select(['name', 'function_id', 'owner_id']).execute();
      return {
        generation,
        routes: routes.map((r) => ({ ...toRoute(r), functionId: r.function_id, functionName: r.name, ownerId: r.owner_id })),
        publicFunctions: names.map((n) => ({ name: n.name, functionId: n.function_id, ownerId: n.owner_id })),
      };
    });
  }

  async listForOwner(ownerId: string): Promise<Array<FunctionRoute & { functionId: string; functionName: string }>> {
    const rows = await this.#db
      .selectFrom('function_routes as r')
      .innerJoin('functions as f', 'f.id', 'r.function_id')
      .select(['r.method', 'r.path', 'r.auth', 'r.event_shape', 'r.function_id', 'f.name'])
      .where('r.owner_id', '=', ownerId)
      .orderBy('r.path')
      .orderBy('r.method')
      .execute();
    return rows.map((r) => ({ ...toRoute(r), functionId: r.function_id, functionName: r.name }));
  }

  /** Routes and public flag of an owner's functions (all of them, or the ones given). */
  async exposures(ownerId: string, functionId?: string): Promise<Map<string, Exposure>> {
    let routes = this.#db.selectFrom('function_routes').select(['function_id', 'method', 'path', 'auth', 'event_shape']).where('owner_id', '=', ownerId);
    let names = this.#db.selectFrom('public_functions').select('function_id').where('owner_id', '=', ownerId);
    if (functionId !== undefined) {
      routes = routes.where('function_id', '=', functionId);
      names = names.where('function_id', '=', functionId);
    }
    const map = new Map<string, Exposure>();
    const of = (id: string): Exposure => {
      let e = map.get(id);
      if (e === undefined) map.set(id, (e = { public: false, routes: [] }));
      return e;
    };
    for (const r of await routes.orderBy('path').orderBy('method').execute()) of(r.function_id).routes.push(toRoute(r));
    for (const n of await names.execute()) of(n.function_id).public = true;
    return map;
  }
}
