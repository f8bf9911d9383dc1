import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { AppError } from '../core/errors.ts';
import type { ObjectReader } from '../core/ports/objects.ts';
import type { ConnectionBudget } from '../sandbox/driver.ts';

export interface SandboxObjectScope {
  ownerId: string;
  functionId: string;
  /** `function_id/object_name` references granted by the executions in flight (their `object_inputs`). */
  granted: () => Iterable<string>;
}

/**
 * What a function reaches at `$API_BASE_URL`: `GET|HEAD /{function_id}/{object_name}` and `GET /{function_id}`
 * (the list). The request needs no credentials: the channel itself is the credential, as only the
 * instance can reach it and only during its executions. It acts as the function's owner and reads
 * that function's objects, plus objects the in-flight executions named in `object_inputs`;
 * anything else is a 404, exactly like an object that does not exist.
 */
export function sandboxHostApi(objects: ObjectReader, scope: SandboxObjectScope): RequestListener {
  const owner = scope.ownerId;
  const allowed = (functionId: string, name: string | null): boolean => {
    if (functionId === scope.functionId) return true;
    if (name === null) return false;
    for (const ref of scope.granted()) if (ref === `${functionId}/${name}`) return true;
    return false;
  };
  return (request, response) => {
    void serve(objects, owner, allowed, request, response).catch((err: unknown) => {
      const status = err instanceof AppError ? err.status : 500;
      const code = err instanceof AppError ? err.code : 'INTERNAL';
      if (!response.headersSent) reply(response, status, { error: { code, message: err instanceof AppError ? err.message : 'internal error' } });
      else response.destroy();
    });
  };
}

async function serve(objects: ObjectReader, owner: string, allowed: (functionId: string, name: string | null) => boolean, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const method = request.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return reply(response, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'objects are read-only from inside a function' } }, { allow: 'GET, HEAD' });
  const segments = (request.url ?? '/').split('?')[0]!.split('/').slice(1);
  let parts: string[];
  try {
    parts = segments.map((s) => decodeURIComponent(s));
  } catch {
    return reply(response, 400, { error: { code: 'BAD_REQUEST', message: 'the path is not valid percent-encoding' } });
  }
  const [functionId, name] = parts;
  if (parts.length === 1 && functionId && allowed(functionId, null)) {
    const items = await objects.list(owner, functionId);
    return reply(response, 200, { items: items.map(({ id: _id, functionId: _fn, ...meta }) => meta) });
  }
  if (parts.length !== 2 || !functionId || !name || !allowed(functionId, name)) return reply(response, 404, { error: { code: 'NOT_FOUND', message: 'Object not found' } });
  const { info, stream } = await objects.open(owner, functionId, name);
  response.writeHead(200, { 'content-type': info.contentType, 'content-length': String(info.size), etag: `"${info.checksum.slice('sha256:'.length)}"` });
  if (method === 'HEAD') {
    stream.destroy();
    response.end();
    return;
  }
  await pipeline(stream, response);
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
}

/**
 * Host-API connections per owner on this node, shared by all of the owner's instances
 * (HOST_API_MAX_CONNECTIONS_PER_OWNER): one tenant's functions cannot take every descriptor.
 */
export class OwnerConnectionBudgets {
  readonly #limit: number;
  readonly #log: Pick<Logger, 'warn'>;
  readonly #open = new Map<string, number>();
  /** Owners refused since their count was last zero: one warning per spell, not per connection. */
  readonly #warned = new Set<string>();

  constructor(limit: number, log: Pick<Logger, 'warn'>) {
    this.#limit = limit;
    this.#log = log;
  }

  of(ownerId: string): ConnectionBudget {
    return {
      tryTake: () => {
        const open = this.#open.get(ownerId) ?? 0;
        if (open < this.#limit) {
          this.#open.set(ownerId, open + 1);
          return true;
        }
        if (!this.#warned.has(ownerId)) this.#log.warn({ ownerId, limit: this.#limit }, "an owner's functions hold as many host API connections as they may; further ones are refused (HOST_API_MAX_CONNECTIONS_PER_OWNER)");
        this.#warned.add(ownerId);
        return false;
      },
      giveBack: () => {
        const left = (this.#open.get(ownerId) ?? 1) - 1;
        if (left > 0) return void this.#open.set(ownerId, left);
        this.#open.delete(ownerId);
        this.#warned.delete(ownerId);
      },
    };
  }
}
