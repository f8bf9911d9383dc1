import type { IncomingMessage } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { AppError } from '../core/errors.ts';
import { jsonTooDeep, nestedDeeperThan } from '../core/json-depth.ts';
import type { EventShape } from '../core/types.ts';

/** What a function behind a route receives (docs/gateway.md). */
export interface HttpEvent {
  method: string;
  /** The request path as received (percent-encoded), without the query; below /function/{name} the rest after the name. */
  path: string;
  /** Route parameters, percent-decoded; `*` holds a wildcard's rest. */
  params: Record<string, string>;
  /** Query parameters, decoded; a repeated key gives an array. */
  query: Record<string, string | string[]>;
  /** Lower-cased names; repeated headers joined with ", " (cookies with "; "). */
  headers: Record<string, string>;
  /** Text as a string; other bytes as base64 with isBase64Encoded true; null without a body. */
  body: string | null;
  isBase64Encoded: boolean;
}

const EMPTY = Buffer.alloc(0);
const TEXT_TYPE = /^\s*(?:text\/|application\/(?:json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|x-ndjson|yaml|x-yaml|ld\+json)\b|[a-z]+\/[^;\s]*\+(?:json|xml)\b)/i;

/** Text bodies travel as strings: a textual (or absent) content type and valid UTF-8. */
export const isTextual = (contentType: string | undefined, bytes: Buffer): boolean =>
  (contentType === undefined || contentType === '' || TEXT_TYPE.test(contentType)) && isUtf8(bytes);

/** Reads the whole body up to `limit` bytes; a larger one is refused (413) as soon as it is known. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes`));
  if (declared === '0' || (declared === undefined && req.headers['transfer-encoding'] === undefined)) return Promise.resolve(EMPTY);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** Query string → object; a key given more than once maps to an array of its values. */
export function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  if (search === '') return query;
  for (const [key, value] of new URLSearchParams(search)) {
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/** Request headers for the function, leaving out the ones named in `drop` (a platform credential it used). */
export function eventHeaders(req: IncomingMessage, drop: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = Object.create(null);
  const raw = req.headers;
  for (const name in raw) {
    if (drop.length > 0 && drop.includes(name)) continue;
    const value = raw[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export function bodyOf(bytes: Buffer, contentType: string | undefined): { body: string | null; isBase64Encoded: boolean } {
  if (bytes.length === 0) return { body: null, isBase64Encoded: false };
  return isTextual(contentType, bytes) ? { body: bytes.toString('utf8'), isBase64Encoded: false } : { body: bytes.toString('base64'), isBase64Encoded: true };
}

/**
 * What the function receives, by its event shape (docs/gateway.md). `http`: the request as an HttpEvent.
 * `body`: what the request carries — its body parsed as JSON (400 JSON_TOO_DEEP past MAX_JSON_DEPTH), else
 * its text (a binary body as its base64 text); without a body, the query and path parameters as one object,
 * parameters winning over the query.
 */
export function eventFor(shape: EventShape, request: HttpEvent): unknown {
  if (shape === 'http') return request;
  if (request.body === null) return { ...request.query, ...request.params };
  if (request.isBase64Encoded) return request.body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    return request.body;
  }
  if (nestedDeeperThan(request.body)) throw jsonTooDeep();
  return parsed;
}

/** Percent-decodes route parameters; a malformed escape is the client's error. */
export function decodeParams(params: Record<string, string>): Record<string, string> {
  for (const name in params) {
    const value = params[name];
    if (!value.includes('%')) continue;
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      throw new AppError('BAD_REQUEST', `The path parameter ${name} is not valid percent-encoding`);
    }
  }
  return params;
}
