import { SkyscaleError } from './errors.ts';

export interface TransportOptions {
  endpoint: string;
  apiKey?: string;
  token?: string;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export interface RequestOptions {
  body?: unknown;
  form?: FormData;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** Return the raw text instead of parsing JSON. */
  raw?: boolean;
  /** Send these bytes as the body (set content-type in headers). */
  bytes?: Blob | Uint8Array | string;
  /** Return the response body as bytes. */
  binary?: boolean;
}

/** One place that speaks HTTP: credentials, JSON, and the API's error body → SkyscaleError. */
export class Transport {
  readonly endpoint: string;
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.#options = options;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.endpoint + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...this.#options.headers, ...options.headers };
    const credential = this.#options.apiKey ?? this.#options.token;
    if (credential !== undefined) headers.authorization = `Bearer ${credential}`;
    let body: BodyInit | undefined;
    if (options.form !== undefined) body = options.form;
    else if (options.bytes !== undefined) body = options.bytes as BodyInit;
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let res: Response;
    try {
      res = await (this.#options.fetch ?? fetch)(url, { method, headers, body });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new SkyscaleError(0, 'NETWORK_ERROR', `Cannot reach ${this.endpoint}: ${cause}`);
    }
    if (options.binary === true && res.ok) return new Uint8Array(await res.arrayBuffer()) as T;
    const text = await res.text();
    if (!res.ok) throw toError(res, text);
    if (options.raw === true) return text as T;
    if (res.status === 204 || text === '') return undefined as T;
    return JSON.parse(text) as T;
  }
}

function toError(res: Response, text: string): SkyscaleError {
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string; requestId?: string; details?: unknown } };
    if (error?.code !== undefined) return new SkyscaleError(res.status, error.code, error.message ?? res.statusText, error.requestId, error.details);
  } catch {
    // not our error shape
  }
  return new SkyscaleError(res.status, `HTTP_${res.status}`, text.slice(0, 200) || res.statusText);
}
