import { AppError, notFound } from '../core/errors.ts';
import { isId, newId, nowIso } from '../core/ids.ts';
import type { Exposure, FunctionRecord, FunctionRoute, FunctionVersion, Principal, Runtime, StreamPolicy } from '../core/types.ts';
import { ExposureConflictError, type ExposureChange, type FunctionStore, type RouteStore } from '../core/ports/store.ts';
import { detectBundleFormat, unwrapSingleDirectory } from './bundle.ts';
import { checkEventShape } from './route-pattern.ts';
import type { CodeStore } from './code-store.ts';
import { checkEntry, CodeIntake, defaultHandler, type CodeInput, type StoredCode } from './code-intake.ts';
import { SyntaxChecker } from './syntax-check.ts';
import { TtlCache } from '../core/ttl-cache.ts';
import { checkSecretName } from '../secrets/service.ts';
import type { Bus } from '../core/ports/bus.ts';
import { publish } from '../core/events.ts';

const checkSecretNames = (names: string[]): string[] => [...new Set(names.map(checkSecretName))];
import { LIMITS, checkCpuQuota, checkEnv, checkHandler, checkMemory, checkRoutes, checkRuntime, checkTimeout, defaultTimeoutMs, inferRuntime, normaliseFunctionName, streamPolicy } from './validation.ts';

export type { CodeInput, JsonFiles } from './code-intake.ts';

export interface FunctionFields {
  name?: string;
  runtime?: string;
  handler?: string;
  memoryMb?: number;
  /** Percent of one core per instance; null (or left out on create): derived from memoryMb. */
  cpuQuotaPercent?: number | null;
  timeoutMs?: number;
  env?: Record<string, string>;
  concurrency?: number;
  maxInstances?: number;
  maxAttempts?: number;
  secrets?: string[];
  stream?: Partial<StreamPolicy>;
  /** What the gateway sends the function (routes may set their own); default 'http'. */
  eventShape?: string;
  /** Gateway routes; given, they replace the function's routes (an empty list removes them). */
  routes?: Array<{ method: string; path: string; auth?: string; eventShape?: string | null }>;
  /** Callable by anyone at /function/{name} on the gateway. */
  public?: boolean;
}

function exposureChange(fields: FunctionFields): ExposureChange | undefined {
  if (fields.routes === undefined && fields.public === undefined) return undefined;
  return { routes: fields.routes === undefined ? undefined : checkRoutes(fields.routes), public: fields.public };
}

export interface BundleLimits {
  maxBytes: number;
  maxFiles: number;
  /** The longest timeoutMs a function may have on this server (MAX_TIMEOUT_SECONDS); default: LIMITS.timeoutMs.max. */
  maxTimeoutMs?: number;
  /** The CPU quotas a function may ask for on this server (MIN_CPU_QUOTA_PERCENT..MAX_CPU_QUOTA_PERCENT). */
  cpuQuota: { minPercent: number; maxPercent: number };
}

/** Why this server cannot run functions of a runtime, or null if it can. */
export type RuntimeCheck = (runtime: Runtime) => Promise<string | null>;

export class FunctionService {
  readonly #repo: FunctionStore;
  readonly #code: CodeStore;
  readonly #limits: BundleLimits;
  /** Definitions read on every invocation; writes here invalidate, other processes are seen within the TTL. */
  readonly #cache = new TtlCache<FunctionRecord>(2_000);

  readonly #routes: RouteStore;
  /** Where deletions and route changes are announced (workers, the object store, gateways). */
  readonly #bus: Bus;

  readonly #runtimeCheck: RuntimeCheck;
  readonly #intake: CodeIntake;

  get #maxTimeoutMs(): number {
    return this.#limits.maxTimeoutMs ?? LIMITS.timeoutMs.max;
  }

  /** A deploy's cpuQuotaPercent: null asks for the quota derived from memory; left out keeps `current`'s. */
  #cpuQuota(given: number | null | undefined, current: number | null): number | null {
    if (given === undefined) return current;
    return given === null ? null : checkCpuQuota(given, this.#limits.cpuQuota);
  }

  constructor(deps: { repo: FunctionStore; code: CodeStore; limits: BundleLimits; routes: RouteStore; bus: Bus; runtimeCheck?: RuntimeCheck; syntax?: SyntaxChecker }) {
    const { repo, code, limits, routes } = deps;
    this.#bus = deps.bus;
    this.#repo = repo;
    this.#intake = new CodeIntake(code, limits, deps.syntax ?? new SyntaxChecker());
    this.#routes = routes;
    this.#code = code;
    this.#limits = limits;
    this.#runtimeCheck = deps.runtimeCheck ?? (async () => null);
  }

  async #checkAvailable(runtime: Runtime): Promise<void> {
    const reason = await this.#runtimeCheck(runtime);
    if (reason !== null) throw new AppError('RUNTIME_UNAVAILABLE', `The ${runtime} runtime is not available on this server: ${reason}`);
  }

  async create(owner: Principal, fields: FunctionFields, code: CodeInput | undefined): Promise<FunctionRecord> {
    if (fields.name === undefined) throw new AppError('VALIDATION_FAILED', 'name is required');
    if (fields.runtime === undefined) throw new AppError('VALIDATION_FAILED', 'runtime is required');
    if (code === undefined) throw new AppError('VALIDATION_FAILED', 'code is required: give "code", "files" or a bundle upload');
    const name = normaliseFunctionName(fields.name);
    const runtime = checkRuntime(fields.runtime);
    await this.#checkAvailable(runtime);
    const config = {
      runtime,
      handler: checkHandler(runtime, fields.handler ?? defaultHandler(runtime, code)),
      memoryMb: checkMemory(runtime, fields.memoryMb ?? LIMITS.memoryMb.default),
      cpuQuotaPercent: this.#cpuQuota(fields.cpuQuotaPercent, null),
      timeoutMs: fields.timeoutMs === undefined ? Math.min(defaultTimeoutMs(runtime), this.#maxTimeoutMs) : checkTimeout(fields.timeoutMs, this.#maxTimeoutMs),
      env: checkEnv(fields.env ?? {}),
      concurrency: fields.concurrency ?? LIMITS.concurrency.default,
      maxInstances: fields.maxInstances ?? LIMITS.maxInstances.default,
      maxAttempts: fields.maxAttempts ?? LIMITS.maxAttempts.default,
      secrets: checkSecretNames(fields.secrets ?? []),
      stream: streamPolicy(fields.stream),
      eventShape: checkEventShape(fields.eventShape) ?? 'http',
    };
    const exposure = exposureChange(fields);
    if ((await this.#repo.findByName(owner.userId, name)) !== undefined) throw new AppError('FUNCTION_NAME_TAKEN');
    const stored = await this.#intake.store(runtime, config.handler, code);
    const created = await this.#exposing(exposure, () => this.#repo.create({ id: newId(), ownerId: owner.userId, name, at: nowIso(), version: { id: newId(), ...config, ...stored }, exposure }));
    if (created === undefined) throw new AppError('FUNCTION_NAME_TAKEN');
    return created;
  }

  /**
   * Seed 002's upload: the archive of a folder becomes a new function, or the next version of the owner's
   * function of that name. A single top-level directory is unwrapped; a new function without a runtime
   * gets the one whose default entry the folder holds (index.js → node, main.py → python, index.php → php).
   */
  async upload(owner: Principal, fields: FunctionFields, archive: Buffer): Promise<{ fn: FunctionRecord; created: boolean }> {
    if (fields.name === undefined) throw new AppError('VALIDATION_FAILED', 'name is required');
    const files = unwrapSingleDirectory(await this.#intake.extract(archive, detectBundleFormat(archive)));
    const code: CodeInput = { kind: 'extracted', files };
    const existing = await this.#repo.findByName(owner.userId, normaliseFunctionName(fields.name));
    if (existing !== undefined) return { fn: await this.update(owner, existing.id, fields, code), created: false };
    const runtime = fields.runtime ?? inferRuntime(files);
    if (runtime === undefined) throw new AppError('VALIDATION_FAILED', 'runtime is required: the folder holds none (or several) of index.js, main.py and index.php');
    return { fn: await this.create(owner, { ...fields, runtime }, code), created: true };
  }

  /** Every update makes a new immutable version; fields left out keep their current value, code included. */
  async update(owner: Principal, id: string, fields: FunctionFields, code: CodeInput | undefined): Promise<FunctionRecord> {
    const current = await this.get(owner, id);
    if (fields.name !== undefined && normaliseFunctionName(fields.name) !== current.name) {
      throw new AppError('VALIDATION_FAILED', 'a function cannot be renamed; deploy a new function instead');
    }
    const runtime = fields.runtime === undefined ? current.runtime : checkRuntime(fields.runtime);
    if (runtime !== current.runtime) await this.#checkAvailable(runtime);
    const handler = checkHandler(runtime, fields.handler ?? defaultHandler(runtime, code, current));
    const config = {
      runtime,
      handler,
      memoryMb: checkMemory(runtime, fields.memoryMb ?? current.memoryMb),
      cpuQuotaPercent: this.#cpuQuota(fields.cpuQuotaPercent, current.cpuQuotaPercent),
      // A version deployed under a higher server maximum is brought down to today's.
      timeoutMs: fields.timeoutMs === undefined ? Math.min(current.timeoutMs, this.#maxTimeoutMs) : checkTimeout(fields.timeoutMs, this.#maxTimeoutMs),
      env: fields.env === undefined ? current.env : checkEnv(fields.env),
      concurrency: fields.concurrency ?? current.concurrency,
      maxInstances: fields.maxInstances ?? current.maxInstances,
      maxAttempts: fields.maxAttempts ?? current.maxAttempts,
      secrets: fields.secrets === undefined ? current.secrets : checkSecretNames(fields.secrets),
      stream: streamPolicy(fields.stream, current.stream),
      eventShape: checkEventShape(fields.eventShape) ?? current.eventShape,
    };
    const exposure = exposureChange(fields);
    let stored: StoredCode;
    if (code !== undefined) stored = await this.#intake.store(runtime, handler, code);
    else {
      checkEntry(runtime, handler, await this.#code.list(current.codeHash));
      stored = { codeHash: current.codeHash, codeSource: current.codeSource, codeSize: current.codeSize };
    }
    const updated = await this.#exposing(exposure, () => this.#repo.addVersion(owner.userId, current.id, { id: newId(), ...config, ...stored }, nowIso(), exposure));
    this.#forget(current.id);
    if (updated === undefined) throw functionNotFound({ id: current.id });
    await publish(this.#bus, 'functions.changed', { functionId: current.id });
    return updated;
  }

  async get(owner: Principal, id: string): Promise<FunctionRecord> {
    if (!isId(id)) throw functionNotFound({ id });
    const key = `${owner.userId}#${id}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    // Cached only on a miss: refreshing on every hit would keep an entry alive past its TTL under load.
    const fn = await this.#repo.findById(owner.userId, id);
    if (fn === undefined) throw functionNotFound({ id });
    this.#cache.set(key, fn);
    return fn;
  }

  async getByName(owner: Principal, rawName: string): Promise<FunctionRecord> {
    const name = rawName.normalize('NFC');
    const key = `${owner.userId}@${name}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const fn = await this.#repo.findByName(owner.userId, name);
    if (fn === undefined) throw functionNotFound({ name });
    this.#cache.set(key, fn);
    return fn;
  }

  /** The function as it was at `version` (async work queued before a newer deploy runs that version); undefined once deleted. */
  async atVersion(ownerId: string, id: string, version: number): Promise<FunctionRecord | undefined> {
    const fn = await this.#repo.findById(ownerId, id);
    const at = fn && (fn.version === version ? fn : await this.#repo.getVersion(ownerId, id, version));
    if (fn === undefined || at === undefined) return undefined;
    return { ...fn, ...at, id: fn.id, createdAt: fn.createdAt };
  }

  /** Another process changed or deleted this function: its cached definition goes (functions.changed). */
  forget(id: string): void {
    this.#forget(id);
  }

  #forget(id: string): void {
    this.#cache.deleteWhere((fn) => fn.id === id);
  }

  list(owner: Principal): Promise<FunctionRecord[]> {
    return this.#repo.list(owner.userId);
  }

  async versions(owner: Principal, id: string): Promise<FunctionVersion[]> {
    const versions = isId(id) ? await this.#repo.listVersions(owner.userId, id) : undefined;
    if (versions === undefined) throw functionNotFound({ id });
    return versions;
  }

  async delete(owner: Principal, id: string): Promise<void> {
    if (!isId(id)) throw functionNotFound({ id });
    const deleted = await this.#repo.delete(owner.userId, id);
    this.#forget(id);
    if (!deleted) throw functionNotFound({ id });
    await publish(this.#bus, 'functions.deleted', { functionId: id, ownerId: owner.userId });
    await this.#routesChanged();
  }

  /** Runs a write carrying an exposure change: conflicts become 409s, and the gateway hears of the change. */
  async #exposing<T>(exposure: ExposureChange | undefined, write: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await write();
    } catch (err) {
      if (!(err instanceof ExposureConflictError)) throw err;
      throw new AppError(err.kind === 'route' ? 'ROUTE_CONFLICT' : 'PUBLIC_NAME_TAKEN', err.message, { details: err.details });
    }
    if (exposure !== undefined) await this.#routesChanged();
    return result;
  }

  /** Gateways reload their routing table; in-process ones before this resolves (the API answers after it). */
  async #routesChanged(): Promise<void> {
    await publish(this.#bus, 'routes.changed', {});
  }

  /**
   * Changes only how a function is reachable on the gateway (no new version, so its warm instances keep
   * serving): given routes replace its routes, a given `public` sets the flag.
   */
  async setExposure(owner: Principal, id: string, fields: Pick<FunctionFields, 'routes' | 'public'>): Promise<Exposure> {
    const fn = await this.get(owner, id);
    const change = exposureChange(fields) ?? {};
    const found = await this.#exposing(change, () => this.#routes.setExposure(owner.userId, fn.id, change, nowIso()));
    if (!found) throw functionNotFound({ id: fn.id });
    return this.exposure(owner, fn.id);
  }

  /** Routes and public flag of one of the owner's functions. */
  async exposure(owner: Principal, id: string): Promise<Exposure> {
    await this.get(owner, id);
    return (await this.#routes.exposures(owner.userId, id)).get(id) ?? { public: false, routes: [] };
  }

  /** Every route of the owner's functions, by path. */
  routes(owner: Principal): Promise<Array<FunctionRoute & { functionId: string; functionName: string }>> {
    return this.#routes.listForOwner(owner.userId);
  }

  /** Routes and public flags of all the owner's functions, by function id (absent: none). */
  exposures(owner: Principal): Promise<Map<string, Exposure>> {
    return this.#routes.exposures(owner.userId);
  }
}

/** A 404 that names what was looked up; ids and names come from the client, so they are quoted and cut short. */
function functionNotFound(ref: { id: string } | { name: string }): AppError {
  return 'id' in ref ? notFound(`Function with id ${quoted(ref.id)}`) : notFound(`Function ${quoted(ref.name)}`);
}

function quoted(text: string): string {
  return JSON.stringify(text.length > 128 ? `${text.slice(0, 128)}…` : text);
}
