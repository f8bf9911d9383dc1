import { createHash } from 'node:crypto';
import { AppError, notFound } from '../core/errors.ts';
import { isId, newId, nowIso } from '../core/ids.ts';
import type { Principal } from '../core/types.ts';
import { TtlCache } from '../core/ttl-cache.ts';
import type { SecretMeta } from '../core/types.ts';
import type { SecretStore } from '../core/ports/store.ts';
import type { SecretCipher } from './cipher.ts';
import { SecretsUnavailableError, type SecretResolver } from '../core/ports/secrets.ts';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_VALUE_BYTES = 64 * 1024;

export function checkSecretName(name: string): string {
  if (!NAME_RE.test(name)) throw new AppError('VALIDATION_FAILED', 'secret names are 1-128 letters, digits or "_", not starting with a digit');
  return name;
}

export { SecretsUnavailableError };

export class SecretService implements SecretResolver {
  readonly #repo: SecretStore;
  readonly #cipher: SecretCipher;
  /** Decrypted env per (owner, names) for a moment, so warm invocations do not decrypt each time. */
  readonly #resolved = new TtlCache<{ ownerId: string; env: Record<string, string>; digest: string }>(2_000, 1_000);

  constructor(repo: SecretStore, cipher: SecretCipher) {
    this.#repo = repo;
    this.#cipher = cipher;
  }

  async create(owner: Principal, name: string, value: string): Promise<SecretMeta> {
    checkSecretName(name);
    this.#checkValue(value);
    const nameKey = name.toLowerCase();
    const at = nowIso();
    const created = await this.#repo.create({ id: newId(), ownerId: owner.userId, name, ciphertext: this.#cipher.encrypt(owner.userId, nameKey, value), createdAt: at });
    if (created === undefined) throw new AppError('CONFLICT', `a secret named "${name}" already exists`);
    this.#forget(owner.userId);
    return created;
  }

  list(owner: Principal): Promise<SecretMeta[]> {
    return this.#repo.list(owner.userId);
  }

  async get(owner: Principal, id: string): Promise<SecretMeta> {
    const found = isId(id) ? await this.#repo.get(owner.userId, id) : undefined;
    if (found === undefined) throw notFound('Secret');
    return found;
  }

  async update(owner: Principal, id: string, value: string): Promise<SecretMeta> {
    this.#checkValue(value);
    const updated = isId(id) ? await this.#repo.update(owner.userId, id, (name) => this.#cipher.encrypt(owner.userId, name.toLowerCase(), value), nowIso()) : undefined;
    if (updated === undefined) throw notFound('Secret');
    this.#forget(owner.userId);
    return updated;
  }

  async delete(owner: Principal, id: string): Promise<void> {
    if (!isId(id) || !(await this.#repo.delete(owner.userId, id))) throw notFound('Secret');
    this.#forget(owner.userId);
  }

  /**
   * The environment for these secret names of this owner: `database_url` → `DATABASE_URL`. A digest of
   * the values lets the pool keep instances with different secret values apart.
   */
  async resolve(ownerId: string, names: readonly string[]): Promise<{ env: Record<string, string>; digest: string }> {
    if (names.length === 0) return { env: {}, digest: '' };
    const keys = [...new Set(names.map((n) => n.toLowerCase()))].sort();
    const cacheKey = `${ownerId}:${keys.join(',')}`;
    const cached = this.#resolved.get(cacheKey);
    if (cached !== undefined) return cached;
    const rows = await this.#repo.ciphertexts(ownerId, keys);
    const missing = keys.filter((k) => !rows.some((r) => r.nameKey === k));
    if (missing.length > 0) throw new SecretsUnavailableError(`secret ${missing.map((m) => `"${m}"`).join(', ')} does not exist`);
    const env: Record<string, string> = {};
    const digest = createHash('sha256');
    for (const row of rows) {
      let value: string;
      try {
        value = this.#cipher.decrypt(ownerId, row.nameKey, row.ciphertext);
      } catch (err) {
        throw new SecretsUnavailableError((err as Error).message);
      }
      env[row.name.toUpperCase()] = value;
      digest.update(`${row.nameKey}\0${row.updatedAt}\0`);
    }
    const result = { ownerId, env, digest: digest.digest('hex').slice(0, 16) };
    this.#resolved.set(cacheKey, result);
    return result;
  }

  #checkValue(value: string): void {
    if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw new AppError('VALIDATION_FAILED', `a secret value is at most ${MAX_VALUE_BYTES} bytes`);
    if (value.includes('\0')) throw new AppError('VALIDATION_FAILED', 'a secret value cannot contain NUL bytes');
  }

  #forget(ownerId: string): void {
    this.#resolved.deleteWhere((entry) => entry.ownerId === ownerId);
  }
}
