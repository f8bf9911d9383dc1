import { AppError, notFound } from '../core/errors.ts';
import { newId, nowIso } from '../core/ids.ts';
import type { ApiKeyInfo, Principal, User } from '../core/types.ts';
import type { Store } from '../core/ports/store.ts';
import { hashPassword, verifyPassword, decoyHash } from './passwords.ts';
import { TokenSigner, newApiKey, hashApiKey, looksLikeApiKey } from './tokens.ts';
import { LoginLimiter } from './login-limiter.ts';
import { checkUsername, checkPassword } from './credentials.ts';
import { TtlCache } from '../core/ttl-cache.ts';

export interface AuthOptions {
  signup: 'open' | 'closed';
  jwtSecret: string;
  tokenTtlSeconds: number;
  loginMaxAttempts: number;
  loginWindowSeconds: number;
}

export class AuthService {
  readonly #store: Store;
  readonly #options: AuthOptions;
  readonly #signer: TokenSigner;
  readonly #limiter: LoginLimiter;
  /** last_used_at is written at most once a minute per key so key auth stays off the write path. */
  readonly #touched = new Map<string, number>();
  /** Key hash → owner; revocation in this process drops the entry, other processes see it within the TTL. */
  readonly #keys = new TtlCache<{ keyId: string; principal: Principal }>(5_000);

  constructor(store: Store, options: AuthOptions) {
    this.#store = store;
    this.#options = options;
    this.#signer = new TokenSigner(options.jwtSecret, options.tokenTtlSeconds);
    this.#limiter = new LoginLimiter(options.loginMaxAttempts, options.loginWindowSeconds);
  }

  async register(usernameRaw: string, password: string): Promise<User> {
    const username = checkUsername(usernameRaw);
    checkPassword(password);
    const hasUsers = (await this.#store.users.list()).length > 0;
    if (this.#options.signup === 'closed' && hasUsers) throw new AppError('SIGNUP_CLOSED');
    const user = await this.#store.users.create({ id: newId(), username, passwordHash: await hashPassword(password), createdAt: nowIso() });
    if (user === undefined) throw new AppError('USERNAME_TAKEN');
    return user;
  }

  async login(usernameRaw: string, password: string, clientIp: string): Promise<{ token: string; expiresAt: string }> {
    const username = usernameRaw.normalize('NFC');
    const keys = [`u:${username}`, `ip:${clientIp}`];
    this.#limiter.check(keys);
    const found = await this.#store.users.findCredentials(username);
    const ok = await verifyPassword(password, found?.passwordHash ?? (await decoyHash()));
    if (found === undefined || !ok) {
      this.#limiter.fail(keys);
      throw new AppError('INVALID_CREDENTIALS');
    }
    this.#limiter.succeed(`u:${username}`);
    return this.#signer.sign({ userId: found.user.id, role: found.user.role });
  }

  /** Resolves a bearer credential (JWT or API key) to a principal, or throws INVALID_TOKEN. */
  async authenticate(credential: string): Promise<Principal> {
    if (looksLikeApiKey(credential)) {
      const hash = hashApiKey(credential);
      const cached = this.#keys.get(hash);
      if (cached !== undefined) return cached.principal;
      const found = await this.#store.apiKeys.findActiveByHash(hash);
      if (found === undefined) throw new AppError('INVALID_TOKEN', 'The API key is not valid');
      const now = Date.now();
      if ((this.#touched.get(found.keyId) ?? 0) < now - 60_000) {
        this.#touched.set(found.keyId, now);
        // Bookkeeping (the key's last use): a database that cannot take it now must not fail the request.
        void this.#store.apiKeys.touch(found.keyId, new Date(now).toISOString()).catch(() => this.#touched.delete(found.keyId));
      }
      const principal: Principal = { userId: found.userId, role: found.role, via: 'api_key' };
      this.#keys.set(hash, { keyId: found.keyId, principal });
      return principal;
    }
    const claims = await this.#signer.verify(credential);
    const user = await this.#store.users.findById(claims.userId);
    if (user === undefined) throw new AppError('INVALID_TOKEN', 'The token is not valid');
    return { userId: user.id, role: user.role, via: 'jwt' };
  }

  async createApiKey(userId: string, name: string | undefined): Promise<ApiKeyInfo & { key: string }> {
    const { key, prefix, hash } = newApiKey();
    const label = (name ?? 'default').normalize('NFC').trim() || 'default';
    const info = await this.#store.apiKeys.create({ id: newId(), userId, name: label, prefix, keyHash: hash, createdAt: nowIso() });
    return { ...info, key };
  }

  listApiKeys(userId: string): Promise<ApiKeyInfo[]> {
    return this.#store.apiKeys.listForUser(userId);
  }

  async revokeApiKey(userId: string, keyId: string): Promise<void> {
    if (!(await this.#store.apiKeys.revoke(userId, keyId, nowIso()))) throw notFound('API key');
    this.#keys.deleteWhere((entry) => entry.keyId === keyId);
  }

  async getUser(principal: Principal, id: string): Promise<User> {
    const user = principal.role === 'admin' || principal.userId === id ? await this.#store.users.findById(id) : undefined;
    if (user === undefined) throw notFound('User');
    return user;
  }

  listUsers(principal: Principal): Promise<User[]> {
    if (principal.role !== 'admin') throw new AppError('FORBIDDEN', 'Only admins can list users');
    return this.#store.users.list();
  }
}
