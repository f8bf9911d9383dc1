import { Type, type Static } from 'typebox';
import { EVENT_SHAPES, ROUTE_AUTH, ROUTE_METHODS, RUNTIMES, type CodeSource as CodeSourceName } from '../../core/types.ts';
import { Nullable, StringEnum, keysOf } from './common.ts';

export const Runtime = StringEnum(RUNTIMES, { description: 'The language runtime (docs/runtimes.md)' });
export const CodeSource = StringEnum(keysOf<CodeSourceName>({ inline: true, files: true, bundle: true }), {
  description: 'How the code was given: `code` (inline), `files`, or a multipart bundle',
});
export const RouteMethod = StringEnum(ROUTE_METHODS);
export const RouteAuth = StringEnum(ROUTE_AUTH, { description: 'public: anyone; api_key: only with an API key of the function\'s owner' });
export const EventShape = StringEnum(EVENT_SHAPES, { description: 'What the gateway sends the function: http (the request, default) or body (its parsed JSON body); docs/gateway.md' });

/** A gateway route as given in a deploy or PUT /functions/{id}/routes. */
export const RouteInput = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 16, description: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY (any case)' }),
    path: Type.String({ minLength: 1, maxLength: 512, description: 'e.g. /users/:id or /static/* (docs/gateway.md)' }),
    auth: Type.Optional(StringEnum(ROUTE_AUTH, { description: 'public (default) or api_key (an API key of the owner)' })),
    eventShape: Type.Optional(Nullable(StringEnum(EVENT_SHAPES, { description: "The route's own event: http or body (docs/gateway.md); left out or null, the function's eventShape" }))),
  },
  { additionalProperties: false },
);

/** A gateway route as stored: the method upper-cased, `auth` filled in. */
export const StoredRoute = Type.Object({ method: RouteMethod, path: Type.String(), auth: RouteAuth, eventShape: Type.Optional(EventShape) });

export const StreamPolicy = Type.Object({
  minFree: Type.Integer({ minimum: 0, maximum: 100, description: 'Idle stream instances kept ready while the function is streamed to (default 0)' }),
  idleTimeoutMs: Type.Integer({ minimum: 1000, maximum: 604_800_000, description: 'A stream instance idle this long is stopped (default 900000 = 15 min)' }),
});

const Env = Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 65536 }));

const metadataFields = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  runtime: Type.Optional(Runtime),
  handler: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'e.g. "index.handler" (node, php), "main.handler" (python); the module file for wasm ("main.wasm"), the file to run for command ("main.py"). See docs/runtimes.md' })),
  memoryMb: Type.Optional(Type.Integer({ minimum: 16, maximum: 8192 })),
  cpuQuotaPercent: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 100_000, description: "CPU of each instance in percent of one core (100 = a core), within the server's MIN_CPU_QUOTA_PERCENT..MAX_CPU_QUOTA_PERCENT; null or left out on create: derived from memoryMb (docs/sandbox.md#cpu)" }))),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 900_000, description: "Default 30000, 300000 for command functions; at most the server's MAX_TIMEOUT_SECONDS × 1000" })),
  env: Type.Optional(Env),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Invocations one instance serves at once (default 1)' })),
  maxInstances: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Most instances of one version at once (default 10)' })),
  maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Attempts of an async invocation before dead-lettering (default 3)' })),
  secrets: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 100, description: 'Names of your secrets to inject as upper-cased environment variables' })),
  stream: Type.Optional(Type.Partial(StreamPolicy, { additionalProperties: false, description: 'Pool policy of WebSocket stream instances (docs/streams.md); fields left out keep their value' })),
  routes: Type.Optional(Type.Array(RouteInput, { maxItems: 50, description: 'HTTP routes on the gateway that invoke the function; given, they replace its routes ([] removes them)' })),
  public: Type.Optional(Type.Boolean({ description: 'Callable by anyone at /function/{name} on the gateway (public names are unique)' })),
  eventShape: Type.Optional(EventShape),
};

/** Settings of a deploy or update; also the `metadata` field of a multipart bundle upload. */
export const FunctionMetadata = Type.Object(metadataFields, { additionalProperties: false });

/** A file of a `files` deploy: UTF-8 text, or base64 for binary content. */
export const FileEntry = Type.Union([
  Type.String(),
  Type.Object({ content: Type.String(), encoding: StringEnum(['utf8', 'base64']) }, { additionalProperties: false }),
]);

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

/** A deploy as `multipart/form-data`. Read from the stream, so not validated as an object (no `type`). */
export const BundleUpload = Type.Unsafe({
  properties: {
    metadata: { type: 'string', description: 'FunctionMetadata as JSON: name, runtime, handler, memoryMb, cpuQuotaPercent, timeoutMs, env, concurrency, maxInstances, maxAttempts, secrets, stream, routes, public' },
    bundle: { type: 'string', format: 'binary', description: 'A .tar.gz or .zip of the code' },
  },
});

/** How a function is reachable on the gateway; PUT /functions/{id}/routes answers with it. */
export const ExposureResponse = Type.Object({
  public: Type.Boolean({ description: 'Callable by anyone at /function/{name}' }),
  routes: Type.Array(StoredRoute),
});

/** A function: its latest version's settings and code, and how it is reachable on the gateway. */
export const FunctionResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  runtime: Runtime,
  handler: Type.String(),
  memoryMb: Type.Integer(),
  cpuQuotaPercent: Nullable(Type.Integer({ description: "The function's own CPU quota in percent of one core; null: derived from memoryMb (docs/sandbox.md#cpu)" })),
  timeoutMs: Type.Integer(),
  env: Env,
  concurrency: Type.Integer(),
  maxInstances: Type.Integer(),
  maxAttempts: Type.Integer(),
  secrets: Type.Array(Type.String()),
  stream: StreamPolicy,
  eventShape: EventShape,
  ...ExposureResponse.properties,
  version: Type.Integer(),
  codeHash: Type.String({ description: 'SHA-256 of the code as stored (content-addressed)' }),
  codeSource: CodeSource,
  codeSize: Type.Integer({ description: 'Bytes of the code, uncompressed' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const FunctionVersionResponse = Type.Omit(FunctionResponse, ['id', 'name', 'public', 'routes', 'updatedAt'], {
  description: 'One immutable version of a function. Routes and the public flag belong to the function, not to a version.',
});

export const RouteListItem = Type.Object({
  ...StoredRoute.properties,
  functionId: Type.String(),
  functionName: Type.String(),
});

/** PUT /functions/{id}/routes: how a function is reachable on the gateway, without a new version. */
export const ExposureUpdate = Type.Object(
  {
    routes: Type.Optional(Type.Array(RouteInput, { maxItems: 50, description: 'Given, they replace the function\'s routes ([] removes them)' })),
    public: Type.Optional(Type.Boolean({ description: 'Callable by anyone at /function/{name} on the gateway' })),
  },
  { additionalProperties: false },
);
