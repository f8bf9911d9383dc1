import type { Db } from './db.ts';
import type { FunctionRecord, FunctionVersion, FunctionConfig, CodeSource, EventShape, Runtime } from '../core/types.ts';
import type { FunctionVersionsTable } from './schema.ts';
import { dropExposure, writeExposure } from './routes.ts';
import type { ExposureChange, FunctionStore, NewVersion } from '../core/ports/store.ts';
import { asExposureConflict, isNameTaken } from './constraints.ts';
import { isPostgres } from './migrations/dialect.ts';

export type { ExposureChange, NewVersion };

const toVersion = (v: FunctionVersionsTable): FunctionVersion => ({
  id: v.id,
  functionId: v.function_id,
  version: v.version,
  runtime: v.runtime as Runtime,
  handler: v.handler,
  memoryMb: v.memory_mb,
  cpuQuotaPercent: v.cpu_quota_percent,
  timeoutMs: v.timeout_ms,
  env: JSON.parse(v.env) as Record<string, string>,
  concurrency: v.concurrency,
  maxInstances: v.max_instances,
  maxAttempts: v.max_attempts,
  secrets: JSON.parse(v.secrets) as string[],
  stream: { minFree: v.stream_min_free, idleTimeoutMs: v.stream_idle_timeout_ms },
  eventShape: v.event_shape as EventShape,
  codeHash: v.code_hash,
  codeSource: v.code_source,
  codeSize: v.code_size,
  createdAt: v.created_at,
});

const versionRow = (functionId: string, version: number, v: NewVersion, createdAt: string): FunctionVersionsTable => ({
  id: v.id,
  function_id: functionId,
  version,
  runtime: v.runtime,
  handler: v.handler,
  memory_mb: v.memoryMb,
  cpu_quota_percent: v.cpuQuotaPercent,
  timeout_ms: v.timeoutMs,
  env: JSON.stringify(v.env),
  concurrency: v.concurrency,
  max_instances: v.maxInstances,
  max_attempts: v.maxAttempts,
  secrets: JSON.stringify(v.secrets),
  stream_min_free: v.stream.minFree,
  stream_idle_timeout_ms: v.stream.idleTimeoutMs,
  event_shape: v.eventShape,
  code_hash: v.codeHash,
  code_source: v.codeSource,
  code_size: v.codeSize,
  created_at: createdAt,
});

/** Functions and their immutable versions. Every read is scoped to an owner: another owner's function is simply absent. */
export class FunctionRepository implements FunctionStore {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  #current() {
    return this.#db
      .selectFrom('functions as f')
      .innerJoin('function_versions as v', (j) => j.onRef('v.function_id', '=', 'f.id').onRef('v.version', '=', 'f.version'))
      .select(['f.id as fid', 'f.owner_id', 'f.name', 'f.created_at as f_created', 'f.updated_at'])
      .selectAll('v');
  }

  #toRecord(row: FunctionVersionsTable & { fid: string; owner_id: string; name: string; f_created: string; updated_at: string }): FunctionRecord {
    const { id: _versionId, functionId: _fn, createdAt: _vc, ...config } = toVersion(row);
    return { ...config, id: row.fid, ownerId: row.owner_id, name: row.name, createdAt: row.f_created, updatedAt: row.updated_at };
  }

  /** Creates a function at version 1; undefined when the owner already has one with this name. */
  async create(input: { id: string; ownerId: string; name: string; at: string; version: NewVersion; exposure?: ExposureChange }): Promise<FunctionRecord | undefined> {
    const created = await this.#db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom('functions').select('id').where('owner_id', '=', input.ownerId).where('name', '=', input.name).executeTakeFirst();
      if (taken !== undefined) return false;
      await trx.insertInto('functions').values({ id: input.id, owner_id: input.ownerId, name: input.name, version: 1, created_at: input.at, updated_at: input.at }).execute();
      await trx.insertInto('function_versions').values(versionRow(input.id, 1, input.version, input.at)).execute();
      if (input.exposure !== undefined) await writeExposure(trx, { functionId: input.id, ownerId: input.ownerId, name: input.name, at: input.at, ...input.exposure });
      return true;
    }).catch((err: unknown) => {
      // Another create of this name committed between the check and the insert.
      if (isNameTaken(err, 'functions_owner_name', 'functions.owner_id, functions.name')) return false;
      throw asExposureConflict(err);
    });
    return created ? this.findById(input.ownerId, input.id) : undefined;
  }

  /** Appends a new immutable version and makes it current. */
  async addVersion(ownerId: string, id: string, version: NewVersion, at: string, exposure?: ExposureChange): Promise<FunctionRecord | undefined> {
    const ok = await this.#db.transaction().execute(async (trx) => {
      // Locked on PostgreSQL: concurrent deploys of one function take turns at numbering versions.
      const fn = await trx.selectFrom('functions').select(['version', 'name']).where('id', '=', id).where('owner_id', '=', ownerId).$if(isPostgres(trx), (q) => q.forUpdate()).executeTakeFirst();
      if (fn === undefined) return false;
      const next = fn.version + 1;
      await trx.insertInto('function_versions').values(versionRow(id, next, version, at)).execute();
      await trx.updateTable('functions').set({ version: next, updated_at: at }).where('id', '=', id).execute();
      if (exposure !== undefined) await writeExposure(trx, { functionId: id, ownerId, name: fn.name, at, ...exposure });
      return true;
    }).catch((err: unknown) => {
      throw asExposureConflict(err);
    });
    return ok ? this.findById(ownerId, id) : undefined;
  }

  async findById(ownerId: string, id: string): Promise<FunctionRecord | undefined> {
    const row = await this.#current().where('f.id', '=', id).where('f.owner_id', '=', ownerId).executeTakeFirst();
    return row && this.#toRecord(row);
  }

  async findByName(ownerId: string, name: string): Promise<FunctionRecord | undefined> {
    const row = await this.#current().where('f.name', '=', name).where('f.owner_id', '=', ownerId).executeTakeFirst();
    return row && this.#toRecord(row);
  }

  async list(ownerId: string): Promise<FunctionRecord[]> {
    const rows = await this.#current().where('f.owner_id', '=', ownerId).orderBy('f.name').execute();
    return rows.map((r) => this.#toRecord(r));
  }

  async listVersions(ownerId: string, id: string): Promise<FunctionVersion[] | undefined> {
    const fn = await this.#db.selectFrom('functions').select('id').where('id', '=', id).where('owner_id', '=', ownerId).executeTakeFirst();
    if (fn === undefined) return undefined;
    const rows = await this.#db.selectFrom('function_versions').selectAll().where('function_id', '=', id).orderBy('version', 'desc').execute();
    return rows.map(toVersion);
  }

  async getVersion(ownerId: string, id: string, version: number): Promise<FunctionVersion | undefined> {
    const row = await this.#db
      .selectFrom('function_versions as v')
      .innerJoin('functions as f', 'f.id', 'v.function_id')
      .selectAll('v')
      .where('f.id', '=', id)
      .where('f.owner_id', '=', ownerId)
      .where('v.version', '=', version)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async delete(ownerId: string, id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const fn = await trx.selectFrom('functions').select('id').where('id', '=', id).where('owner_id', '=', ownerId).executeTakeFirst();
      if (fn === undefined) return false;
      await dropExposure(trx, id);
      await trx.deleteFrom('functions').where('id', '=', id).execute();
      return true;
    });
  }

  /** Code hashes still referenced by any version, for garbage collection of the code store. */
  async codeHashesInUse(): Promise<Set<string>> {
    const rows = await this.#db.selectFrom('function_versions').select('code_hash').distinct().execute();
    return new Set(rows.map((r) => r.code_hash));
  }
}
