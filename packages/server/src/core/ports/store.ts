/**
 * The store as the services see it: repositories of domain types, scoped by owner. Rows and SQL stay
 * inside store/. One implementation per database (SQLite now, PostgreSQL with distributed mode), all
 * passing test/store/store.case.ts.
 */
import { AppError, DISK_FULL_MESSAGE } from '../errors.ts';
import type {
  ApiKeyInfo, CodeSource, Execution, ExecutionError, ExecutionStatus, Exposure, FunctionConfig, FunctionRecord, FunctionRoute,
  FunctionVersion, ObjectInfo, Role, SecretMeta, User,
} from '../types.ts';

export interface Store {
  readonly users: UserStore;
  readonly apiKeys: ApiKeyStore;
  readonly functions: FunctionStore;
  readonly executions: ExecutionStore;
  readonly secrets: SecretStore;
  readonly objects: ObjectStore;
  readonly routes: RouteStore;
  /** Whether the database answers (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface UserStore {
  /** The first user ever becomes admin; undefined when the username is taken. */
  create(input: { id: string; username: string; passwordHash: string; createdAt: string }): Promise<User | undefined>;
  findById(id: string): Promise<User | undefined>;
  findCredentials(username: string): Promise<{ user: User; passwordHash: string } | undefined>;
  list(): Promise<User[]>;
}

export interface ApiKeyStore {
  create(input: { id: string; userId: string; name: string; prefix: string; keyHash: string; createdAt: string }): Promise<ApiKeyInfo>;
  findActiveByHash(keyHash: string): Promise<{ keyId: string; userId: string; role: Role } | undefined>;
  touch(keyId: string, at: string): Promise<void>;
  listForUser(userId: string): Promise<ApiKeyInfo[]>;
  revoke(userId: string, keyId: string, at: string): Promise<boolean>;
}

/** A route as written with a deploy: `shape` is its pattern with parameter names erased (functions/route-pattern.ts). */
export interface NewRoute extends FunctionRoute {
  shape: string;
}

/** Routes and public flag to set with a deploy, in its transaction; undefined parts stay as they are. */
export interface ExposureChange {
  routes?: NewRoute[];
  public?: boolean;
}

export interface NewVersion extends FunctionConfig {
  id: string;
  codeHash: string;
  codeSource: CodeSource;
  codeSize: number;
}

export interface FunctionStore {
  /** Version 1 of a new function; undefined when the owner already has one with this name. */
  create(input: { id: string; ownerId: string; name: string; at: string; version: NewVersion; exposure?: ExposureChange }): Promise<FunctionRecord | undefined>;
  /** Appends a new immutable version and makes it current; undefined when there is no such function. */
  addVersion(ownerId: string, id: string, version: NewVersion, at: string, exposure?: ExposureChange): Promise<FunctionRecord | undefined>;
  findById(ownerId: string, id: string): Promise<FunctionRecord | undefined>;
  findByName(ownerId: string, name: string): Promise<FunctionRecord | undefined>;
  list(ownerId: string): Promise<FunctionRecord[]>;
  listVersions(ownerId: string, id: string): Promise<FunctionVersion[] | undefined>;
  getVersion(ownerId: string, id: string, version: number): Promise<FunctionVersion | undefined>;
  delete(ownerId: string, id: string): Promise<boolean>;
  /** Code hashes any version still refers to (garbage collection of the code store). */
  codeHashesInUse(): Promise<Set<string>>;
}

/** An execution as stored: the record the API shows, plus what only the platform reads. */
export interface StoredExecution extends Execution {
  logs: string;
  timeoutMs: number;
}

/** A finished run that was never queued (a sync call, a stream session); the JSON texts, when known, are stored as they are. */
export interface FinishedExecution extends StoredExecution {
  inputJson?: string;
  resultJson?: string;
}

export interface NewQueuedExecution {
  id: string;
  ownerId: string;
  functionId: string;
  functionName: string;
  version: number;
  timeoutMs: number;
  inputJson: string;
  maxAttempts: number;
  idempotencyKey: string | null;
  /** sha256 of the function and the input: a reused idempotency key with another request is told apart by it. */
  requestHash: string;
  /** Epoch ms from which the execution may be leased. */
  availableAt: number;
  createdAt: string;
}

/** The end of a leased run, as written to its record. */
export interface Outcome {
  status: ExecutionStatus;
  result: unknown;
  error: ExecutionError | null;
  logs: string;
  logsTruncated: boolean;
  durationMs: number;
  coldStart: boolean | null;
  instanceId: string | null;
  workerId: string | null;
  startedAt: string;
  finishedAt: string;
}

export interface ListQuery {
  ownerId: string;
  functionId?: string;
  status?: ExecutionStatus;
  limit: number;
  /** From a previous page: created_at and id of its last record. */
  after?: { createdAt: string; id: string };
}

/** What became of a batch of finished records. */
export interface InsertReport {
  written: number;
  /** Rows that can never be written (they break a constraint: their owner was deleted): given up. */
  rejected: Array<{ id: string; error: string }>;
  /** Rows not written for now (the database is locked, its disk is full), to be tried again, and why. */
  deferred: { ids: readonly string[]; reason: string } | null;
}

/**
 * Nothing was written: the database is locked by another process for longer than a write waits
 * (`busy`: 503 with Retry-After), or its disk is full (`full`: 507). What was committed before stays.
 */
export class StoreUnavailableError extends AppError {
  readonly kind: 'busy' | 'full';
  constructor(kind: 'busy' | 'full', options: { cause?: unknown } = {}) {
    if (kind === 'busy') super('SERVICE_UNAVAILABLE', 'The database is locked by another process: nothing was stored. Try again shortly.', { headers: { 'retry-after': '1' }, cause: options.cause });
    else super('INSUFFICIENT_STORAGE', DISK_FULL_MESSAGE, { cause: options.cause });
    this.kind = kind;
  }
}

/** A message to publish, written in the same transaction as the change it announces (the outbox). */
export interface OutboxMessage {
  id: number;
  subject: string;
  payload: string;
  createdAt: number;
}

export interface ExecutionStore {
  /**
   * Records accepted async work; with `outbox`, also the message announcing it, in the same transaction.
   * With an idempotency key already used by the owner, the earlier execution comes back (`existing`).
   */
  insertQueued(e: NewQueuedExecution, options?: { outbox?: { subject: string; payload: string } }): Promise<{ execution: StoredExecution; existing: boolean; requestHash: string | null }>;
  /**
   * Writes finished runs in one transaction. A record that breaks a constraint is rejected alone; when
   * the database cannot take writes now, the records are deferred (never dropped): the caller retries.
   */
  insertFinished(batch: readonly FinishedExecution[]): Promise<InsertReport>;
  /**
   * The same, synchronously on the store's own connection (SQLite only: what a process runs at exit).
   * Null while a transaction is open on the connection; `atExit` rolls that transaction back first and
   * waits (blocking) a moment for a lock another process holds.
   */
  insertFinishedNow?(batch: readonly FinishedExecution[], atExit?: boolean): InsertReport | null;
  /** Takes up to `max` of the oldest available queued executions (of one owner, when given) for this worker, each leased for `leaseMs`. */
  lease(workerId: string, now: number, max: number, leaseMs: number, ownerId?: string): Promise<StoredExecution[]>;
  /** The owners that have queued executions (some may become available only later, after a retry delay). */
  queuedOwners(): Promise<string[]>;
  /** Takes this one queued execution (delivered by a bus), fenced: of concurrent claimers exactly one wins. */
  claim(id: string, workerId: string, now: number, leaseMs: number): Promise<StoredExecution | undefined>;
  /** Extends a lease this worker holds; false once it does not. */
  renew(id: string, workerId: string, leaseExpiresAt: number): Promise<boolean>;
  /** Ends a leased execution; false when the lease was lost. */
  finish(id: string, workerId: string, outcome: Outcome): Promise<boolean>;
  /**
   * Back to the queue at `availableAt`: after a failed attempt with what it said, or (`last` null) an
   * attempt refused for capacity, which does not count and keeps what the previous attempt said.
   */
  requeue(id: string, workerId: string, availableAt: number, last: { error: ExecutionError | null; logs: string } | null): Promise<boolean>;
  /** Leases past their expiry (their worker died): back to the queue, or dead-lettered when out of attempts. `everyLease` takes all (see AsyncWorkerOptions.reclaimAllAtStart). */
  reclaimExpired(now: number, everyLease?: boolean): Promise<number>;
  get(ownerId: string, id: string): Promise<StoredExecution | undefined>;
  list(q: ListQuery): Promise<StoredExecution[]>;
  countQueued(): Promise<number>;
  /** The oldest unpublished outbox messages; `deleteOutbox` once they are published. */
  takeOutbox(limit: number): Promise<OutboxMessage[]>;
  deleteOutbox(ids: readonly number[]): Promise<void>;
  /** Queued executions available since before `before`: their announcement may be lost, so the reaper makes another. */
  overdue(before: number, limit: number): Promise<Array<{ id: string; ownerId: string; attempts: number }>>;
}

export interface SecretStore {
  /** undefined when the owner already has a secret with this name (in any case). */
  create(input: { id: string; ownerId: string; name: string; ciphertext: string; createdAt: string }): Promise<SecretMeta | undefined>;
  list(ownerId: string): Promise<SecretMeta[]>;
  get(ownerId: string, id: string): Promise<SecretMeta | undefined>;
  /** Ciphertexts of the named secrets of this owner, by lower-case name. */
  ciphertexts(ownerId: string, nameKeys: string[]): Promise<Array<{ name: string; nameKey: string; ciphertext: string; updatedAt: string }>>;
  update(ownerId: string, id: string, ciphertext: (name: string) => string, at: string): Promise<SecretMeta | undefined>;
  delete(ownerId: string, id: string): Promise<boolean>;
}

export interface NewObject {
  id: string;
  ownerId: string;
  functionId: string;
  name: string;
  size: number;
  contentType: string;
  sha256: string;
  createdAt: string;
}

export interface ObjectStore {
  /** Inserts or replaces by (function, name); the id of a replaced object comes back, so its bytes can go. */
  put(object: NewObject): Promise<{ info: ObjectInfo; replacedId: string | null }>;
  get(ownerId: string, functionId: string, name: string): Promise<ObjectInfo | undefined>;
  list(ownerId: string, functionId: string): Promise<ObjectInfo[]>;
  /** The id of the deleted object, undefined when there was none. */
  delete(ownerId: string, functionId: string, name: string): Promise<string | undefined>;
  idsOfFunction(functionId: string): Promise<string[]>;
}

/** A route with the function it invokes: the gateway's view. */
export interface GatewayRoute extends FunctionRoute {
  functionId: string;
  functionName: string;
  ownerId: string;
}

export interface PublicFunction {
  name: string;
  functionId: string;
  ownerId: string;
}

export interface GatewaySnapshot {
  generation: number;
  routes: GatewayRoute[];
  publicFunctions: PublicFunction[];
}

/** Thrown inside a deploy's transaction (rolling it back) when a route or public name is taken. */
export class ExposureConflictError extends Error {
  readonly kind: 'route' | 'public_name';
  readonly details: Record<string, unknown>;
  constructor(kind: 'route' | 'public_name', message: string, details: Record<string, unknown>) {
    super(message);
    this.kind = kind;
    this.details = details;
  }
}

export interface RouteStore {
  /** Sets an owner's function's routes and/or public flag without a new version; false when there is no such function. */
  setExposure(ownerId: string, functionId: string, change: ExposureChange, at: string): Promise<boolean>;
  /** One indexed row, bumped with every change of routes or public names: what gateways poll. */
  generation(): Promise<number>;
  /** Every route and public name, with the generation they belong to (one consistent read). */
  snapshot(): Promise<GatewaySnapshot>;
  listForOwner(ownerId: string): Promise<Array<FunctionRoute & { functionId: string; functionName: string }>>;
  exposures(ownerId: string, functionId?: string): Promise<Map<string, Exposure>>;
}
