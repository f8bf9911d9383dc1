// The SDK's names for the API's types. The types themselves are generated from the server's schemas
// (./generated/api.ts, `npm run generate`), so they say exactly what the server accepts and sends.
import type * as Api from './generated/api.ts';

export type {
  ApiKey, CgroupCapabilities, CodeSource, ErrorCode, ErrorResponse, ExecutionError, ExecutionLogs, ExecutionPage,
  ExecutionStatus, ExposureUpdate, FunctionDeploy, HealthStatus, Instance, InstanceLoad, LoadReading, LoadReport, LoadSettings, NewApiKey,
  ObjectMeta, RouteAuth, RouteMethod, Runtime, RuntimeBinary, SamplerCost, SandboxCapabilities, SecretMeta, StoredRoute,
  StreamInstance, StreamPolicy, StreamPool, StreamSession, StreamStatus, SystemInfo, User, Utilisation, Worker, WorkerLoad,
} from './generated/api.ts';

/** POST /auth/login: a session token, sent by the client as `Authorization: Bearer <token>`. */
export type Session = Api.LoginResult;

/** An HTTP route on the gateway as you give it: `path` may hold `:params` and end in `*` (docs/gateway.md). */
export type Route = Api.RouteInput;

/** How a function is reachable on the gateway: its public flag and its routes as stored. */
export type Exposure = Api.ExposureResponse;

/** A route as stored and listed: the method upper-cased, `auth` filled in. */
export type DeclaredRoute = Api.StoredRoute;

/** What the gateway sends a function: the HTTP request (`http`) or its parsed body (`body`). */
export type EventShape = Api.EventShape;

/** A route of one of your functions, with the function it invokes. */
export type RouteInfo = Api.RouteListItem;

/** A function's settings, as given to deploy or update it (fields left out keep their value on update). */
export type FunctionSettings = Api.FunctionMetadata;

/** A file of a `files` deploy: UTF-8 text, or `{content, encoding: 'base64'}` for binary content. */
export type FileContent = Api.FileEntry;

/** A function: its latest version's settings and code, its public flag and gateway routes. */
export type FunctionInfo = Api.FunctionResponse;

/** One immutable version of a function (routes and the public flag are not versioned). */
export type FunctionVersion = Api.FunctionVersionResponse;

/** An execution record: a sync or async invocation, or a stream session. */
export type Execution = Api.ExecutionResponse;

/** An async invocation's answer: poll getExecution() or waitForExecution() for the outcome. */
export type Queued = Api.QueuedResponse;

/** Options of invokeAsync(). */
export interface InvokeAsyncOptions {
  /** Sent as Idempotency-Key: a retry with the same key and body gets the first execution, not a second run. */
  idempotencyKey?: string;
}

/** Options of waitForExecution(). */
export interface WaitOptions {
  /** Give up after this long and return the execution as it is (default 60000). */
  timeoutMs?: number;
  /** Time between polls (default 200). */
  intervalMs?: number;
}

/** Filters of listExecutions(); newest first, `cursor` from the previous page's nextCursor. (A type, not an interface: it is sent as a query string.) */
export type ExecutionQuery = {
  status?: Api.ExecutionStatus;
  functionId?: string;
  cursor?: string;
  /** Page size: default 50, at most 200. */
  limit?: number;
};
