import { Type, type Static } from 'typebox';
import { ERROR_CODES } from '../core/errors.ts';
import { EVENT_SHAPES, ROUTE_AUTH, ROUTE_METHODS, RUNTIMES, TERMINAL_STATUSES, type EventShape, type ExecutionStatus, type RouteAuth, type RouteMethod } from '../core/types.ts';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(Object.keys(ERROR_CODES).map((c) => Type.Literal(c))),
      message: Type.String(),
      requestId: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error answers with this shape and a stable code (docs/errors.md).' },
);

/** The common error responses added to every route's schema. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('ErrorResponse')]));

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
  createdAt: Type.String(),
});

export const Credentials = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const LoginResult = Type.Object({ token: Type.String(), expiresAt: Type.String() });

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
});

export const NewApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  createdAt: Type.String(),
  key: Type.String({ description: 'The API key itself. It is shown only this once.' }),
});

export const IdParams = Type.Object({ id: Type.String({ maxLength: 128 }) }, { additionalProperties: false });
export const NameParams = Type.Object({ name: Type.String({ maxLength: 512 }) }, { additionalProperties: false });

const Env = Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 65536 }));
const FileEntry = Type.Union([
  Type.String(),
  Type.Object({ content: Type.String(), encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]) }, { additionalProperties: false }),
]);

export const RouteSchema = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 16, description: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY' }),
    path: Type.String({ minLength: 1, maxLength: 512, description: 'e.g. /users/:id or /static/* (docs/gateway.md)' }),
    auth: Type.Optional(Type.Union(ROUTE_AUTH.map((a) => Type.Literal(a)), { description: 'public (default) or api_key (an API key of the owner)' })),
    eventShape: Type.Optional(Type.Union([...EVENT_SHAPES.map((s) => Type.Literal(s)), Type.Null()], { description: "The route's own event: http or body (docs/gateway.md); left out or null, the function's eventShape" })),
  },
  { additionalProperties: false },
);

const EventShapeSchema = Type.Unsafe<EventShape>({ type: 'string', enum: [...EVENT_SHAPES] });

const StoredRoute = Type.Object({
  method: Type.Unsafe<RouteMethod>({ type: 'string', enum: [...ROUTE_METHODS] }),
  path: Type.String(),
  auth: Type.Unsafe<RouteAuth>({ type: 'string', enum: [...ROUTE_AUTH] }),
  eventShape: Type.Optional(EventShapeSchema),
});

const metadataFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  runtime: Type.Optional(Type.Union(RUNTIMES.map((r) => Type.Literal(r)))),
  handler: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'e.g. "index.handler" (node, php), "main.handler" (python); the module file for wasm ("main.wasm"), the file to run for command ("main.py"). See docs/runtimes.md' })),
  memoryMb: Type.Optional(Type.Integer({ minimum: 16, maximum: 8192 })),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 900_000, description: "Default 30000, 300000 for command functions; at most the server's MAX_TIMEOUT_SECONDS × 1000" })),
  env: Type.Optional(Env),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Invocations one instance serves at once (default 1)' })),
  maxInstances: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Most instances of one version at once (default 10)' })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Attempts of an async invocation before dead-lettering (default 3)' })),
  secrets: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 100, description: 'Names of your secrets to inject as upper-cased environment variables' })),
  stream: Type.Optional(Type.Object({
    minFree: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Idle stream instances kept ready while the function is streamed to (default 0)' })),
    idleTimeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 604_800_000, description: 'A stream instance idle this long is stopped (default 900000 = 15 min)' })),
  }, { additionalProperties: false, description: 'Pool policy of WebSocket stream instances (docs/streams.md); fields left out keep their value' })),
  routes: Type.Optional(Type.Array(RouteSchema, { maxItems: 50, description: 'HTTP routes on the gateway that invoke the function; given, they replace its routes' })),
  public: Type.Optional(Type.Boolean({ description: 'Callable by anyone at /function/{name} on the gateway (public names are unique)' })),
  eventShape: Type.Optional(Type.Union(EVENT_SHAPES.map((s) => Type.Literal(s)), { description: 'What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md' })),
};

const StreamPolicySchema = Type.Object({ minFree: Type.Integer(), idleTimeoutMs: Type.Integer() });

/** Metadata of a deploy; also the `metadata` field of a multipart bundle upload. */
export const FunctionMetadata = Type.Object(metadataFields, { additionalProperties: false });

/** A JSON deploy: metadata plus at most one of `code` (one file) or `files` (a file map). */
export const FunctionDeploy = Type.Object(
  {
    ...metadataFields,
    code: Type.Optional(Type.String({ description: 'A single file of code, stored under `filename` (default from the handler; for wasm and command, `filename` is the default handler)' })),
    filename: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    files: Type.Optional(Type.Record(Type.String(), FileEntry, { description: 'Path → content (utf8 text, or {content, encoding:"base64"})' })),
  },
  { additionalProperties: false },
);
export type FunctionDeploy = Static<typeof FunctionDeploy>;

/** Seed 002's `POST /upload` as JSON: a folder as a base64 archive in `zip`, with any deploy field (api/routes/upload.ts). */
export const SeedUpload = Type.Object({ ...metadataFields, zip: Type.String({ minLength: 1, description: 'base64 of a .zip (or .tar.gz, .tar) of the folder' }) }, { additionalProperties: false });
export type SeedUpload = Static<typeof SeedUpload>;
/** Seed 002's `POST /delete`. */
export const SeedDelete = Type.Object({ name: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });

export const FunctionResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  runtime: Type.String(),
  handler: Type.String(),
  memoryMb: Type.Integer(),
  timeoutMs: Type.Integer(),
  env: Env,
  concurrency: Type.Integer(),
  maxInstances: Type.Integer(),
  maxAttempts: Type.Integer(),
  secrets: Type.Array(Type.String()),
  stream: StreamPolicySchema,
  eventShape: EventShapeSchema,
  public: Type.Boolean(),
  routes: Type.Array(StoredRoute),
  version: Type.Integer(),
  codeHash: Type.String(),
  codeSource: Type.String(),
  codeSize: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const FunctionVersionResponse = Type.Object({
  version: Type.Integer(),
  runtime: Type.String(),
  handler: Type.String(),
  memoryMb: Type.Integer(),
  timeoutMs: Type.Integer(),
  env: Env,
  concurrency: Type.Integer(),
  maxInstances: Type.Integer(),
  maxAttempts: Type.Integer(),
  secrets: Type.Array(Type.String()),
  stream: StreamPolicySchema,
  eventShape: EventShapeSchema,
  codeHash: Type.String(),
  codeSource: Type.String(),
  codeSize: Type.Integer(),
  createdAt: Type.String(),
});

export const RouteListItem = Type.Object({
  ...StoredRoute.properties,
  functionId: Type.String(),
  functionName: Type.String(),
});

/** PUT /functions/{id}/routes: how a function is reachable on the gateway, without a new version. */
export const ExposureUpdate = Type.Object(
  {
    routes: Type.Optional(Type.Array(RouteSchema, { maxItems: 50, description: 'Given, they replace the function\'s routes ([] removes them)' })),
    public: Type.Optional(Type.Boolean({ description: 'Callable by anyone at /function/{name} on the gateway' })),
  },
  { additionalProperties: false },
);

export const ExposureResponse = Type.Object({ public: Type.Boolean(), routes: Type.Array(StoredRoute) });

export const listOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) => Type.Object({ items: Type.Array(item) });

export const ExecutionStatusSchema = Type.Unsafe<ExecutionStatus>({ type: 'string', enum: ['queued', 'running', ...TERMINAL_STATUSES] });

export const ExecutionResponse = Type.Object({
  id: Type.String(),
  functionId: Type.String(),
  functionName: Type.String(),
  version: Type.Integer(),
  mode: Type.Union([Type.Literal('sync'), Type.Literal('async'), Type.Literal('stream')]),
  status: ExecutionStatusSchema,
  input: Type.Unknown(),
  result: Type.Unknown(),
  error: Type.Union([Type.Object({ reason: Type.String(), message: Type.String(), stack: Type.Optional(Type.String()) }), Type.Null()]),
  logsTruncated: Type.Boolean(),
  durationMs: Type.Union([Type.Number(), Type.Null()]),
  coldStart: Type.Union([Type.Boolean(), Type.Null()]),
  instanceId: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  createdAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
});

export const QueuedResponse = Type.Object({ id: Type.String(), status: Type.Literal('queued') });
