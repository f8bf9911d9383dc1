/**
 * The one registry of error codes. Every error the API answers with is an AppError built from a
 * code here; docs/errors.md lists the same codes and a test keeps the two in sync.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  VALIDATION_FAILED: { status: 400, message: 'The request does not match the schema' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  JSON_TOO_DEEP: { status: 400, message: 'The JSON is nested too deeply' },
  INVALID_ID: { status: 400, message: 'The id is not valid' },
  INVALID_NAME: { status: 400, message: 'The name is not valid' },
  INVALID_BUNDLE: { status: 400, message: 'The code bundle is not valid' },
  SYNTAX_ERROR: { status: 400, message: 'The code does not parse' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported' },
  UNAUTHENTICATED: { status: 401, message: 'Authentication is required' },
  INVALID_CREDENTIALS: { status: 401, message: 'Username or password is wrong' },
  INVALID_TOKEN: { status: 401, message: 'The token or API key is not valid' },
  FORBIDDEN: { status: 403, message: 'This action is not allowed' },
  SIGNUP_CLOSED: { status: 403, message: 'Registration is closed' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  CONFLICT: { status: 409, message: 'The resource already exists' },
  USERNAME_TAKEN: { status: 409, message: 'The username is taken' },
  FUNCTION_NAME_TAKEN: { status: 409, message: 'A function with this name already exists' },
  ROUTE_CONFLICT: { status: 409, message: 'The route is already taken by another function' },
  PUBLIC_NAME_TAKEN: { status: 409, message: 'Another public function has this name' },
  IDEMPOTENCY_KEY_REUSED: { status: 409, message: 'This Idempotency-Key was used with a different request' },
  RUNTIME_UNAVAILABLE: { status: 422, message: 'This server cannot run functions of this runtime' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  TOO_MANY_CONNECTIONS: { status: 429, message: 'Too many connections are open' },
  EXECUTION_FAILED: { status: 502, message: 'The function did not succeed' },
  INVALID_FUNCTION_RESPONSE: { status: 502, message: 'The function returned an HTTP response that is not valid' },
  FUNCTION_TIMEOUT: { status: 504, message: 'The function did not finish in time' },
  INTERNAL: { status: 500, message: 'Internal error' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'The service is not ready' },
  INSUFFICIENT_STORAGE: { status: 507, message: 'The server has no space left to store this' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * RFC 6750 §3 / RFC 9110 §11.6.1: a 401 says how to authenticate, and `error="invalid_token"` when the
 * credential sent was refused. Every plane answers with the same challenge.
 */
const CHALLENGES: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'Bearer realm="skyscale"',
  INVALID_CREDENTIALS: 'Bearer realm="skyscale"',
  INVALID_TOKEN: 'Bearer realm="skyscale", error="invalid_token"',
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message?: string, options?: { details?: unknown; headers?: Record<string, string>; cause?: unknown }) {
    // Expected errors answer requests; a stack trace is never shown, so don't pay for capturing one.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? ERROR_CODES[code].message, { cause: options?.cause });
    Error.stackTraceLimit = limit;
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = options?.details;
    const challenge = CHALLENGES[code];
    this.headers = challenge === undefined ? options?.headers : { 'www-authenticate': challenge, ...options?.headers };
  }
}

export const notFound = (what = 'Resource'): AppError => new AppError('NOT_FOUND', `${what} not found`);

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** A write that failed because the file system is full (or the user's quota spent). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export const DISK_FULL_MESSAGE = 'The server\'s disk is full: nothing was stored. Try again once space is freed.';

export const insufficientStorage = (cause?: unknown): AppError => new AppError('INSUFFICIENT_STORAGE', DISK_FULL_MESSAGE, { cause });
