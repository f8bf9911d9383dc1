import { AppError } from '../core/errors.ts';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE_RE = /[\r\n\0]/;
const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;
/** Set by the gateway or meaningless across the hop: a function cannot set them. */
const OWN_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer', 'te', 'proxy-connection', 'x-execution-id', 'x-request-id']);
const JSON_TYPE = 'application/json; charset=utf-8';

const invalid = (message: string) => new AppError('INVALID_FUNCTION_RESPONSE', message);

function isResponseShape(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return typeof (value as { statusCode?: unknown }).statusCode === 'number';
}

function headerValue(name: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw invalid(`header ${name.slice(0, 64)} must be a string, a number or a list of strings`);
  const text = String(value);
  if (BAD_VALUE_RE.test(text)) throw invalid(`header ${name.slice(0, 64)} contains a line break or NUL`);
  return text;
}

function headersOf(raw: unknown, cookies: unknown): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = Object.create(null);
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('headers must be an object');
    for (const [rawName, value] of Object.entries(raw)) {
      if (!TOKEN_RE.test(rawName)) throw invalid(`"${rawName.slice(0, 64)}" is not a valid header name`);
      const name = rawName.toLowerCase();
      if (OWN_HEADERS.has(name) || value === undefined || value === null) continue;
      headers[name] = Array.isArray(value) ? value.map((v) => headerValue(name, v)) : headerValue(name, value);
    }
  }
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies)) throw invalid('cookies must be a list of Set-Cookie values');
    const given = headers['set-cookie'];
    headers['set-cookie'] = [...(given === undefined ? [] : Array.isArray(given) ? given : [given]), ...cookies.map((c) => headerValue('set-cookie', c))];
  }
  return headers;
}

/**
 * A function's return value as an HTTP response: an object with a numeric `statusCode` is the response
 * itself (`headers`, `body`, `isBase64Encoded`, `cookies`); any other value is sent as JSON with 200
 * (its JSON text, when the caller already has it, is sent as is).
 */
export function toHttpResponse(result: unknown, resultJson?: string): HttpResponse {
  if (!isResponseShape(result)) {
    return { status: 200, headers: { 'content-type': JSON_TYPE }, body: Buffer.from(resultJson ?? JSON.stringify(result ?? null)) };
  }
  const status = result.statusCode as number;
  if (!Number.isInteger(status) || status < 200 || status > 599) throw invalid(`statusCode must be a whole number from 200 to 599, got ${String(status).slice(0, 32)}`);
  const headers = headersOf(result.headers, result.cookies);
  const raw = result.body;
  let body: Buffer;
  let defaultType: string | undefined;
  if (raw === undefined || raw === null) body = Buffer.alloc(0);
  else if (typeof raw === 'string' && result.isBase64Encoded === true) {
    if (!BASE64_RE.test(raw)) throw invalid('body is marked isBase64Encoded but is not base64');
    body = Buffer.from(raw, 'base64');
    defaultType = 'application/octet-stream';
  } else if (typeof raw === 'string') {
    body = Buffer.from(raw);
    defaultType = 'text/plain; charset=utf-8';
  } else {
    body = Buffer.from(JSON.stringify(raw));
    defaultType = JSON_TYPE;
  }
  if (headers['content-type'] === undefined && defaultType !== undefined && body.length > 0) headers['content-type'] = defaultType;
  return { status, headers, body };
}
