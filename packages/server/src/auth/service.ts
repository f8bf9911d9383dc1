import { AppError, notFound } from '../core/errors.ts';
import { newId, nowIso } from '../core/ids.ts';
import type { ApiKeyInfo, Principal, User } from '../core/types.ts';
import type { Store } from '../core/ports/store.ts';
import { hashPassword, verifyPassword, decoyHash } from './passwords.ts';
import { TokenSigner, newApiKey, hashApiKey, looksLikeApiKey } from './tokens.ts';
import { LoginLimiter } from './login-limiter.ts';
import { CredentialLimiter, type AttemptOutcome } from './credential-limiter.ts';
import { clientKey } from './client-key.ts';
import { checkUsername, checkPassword } from './credentials.ts';
import { TtlCache } from '../core/ttl-cache.ts';

export interface AuthOptions {
  signup: 'open' | 'closed';
  jwtSecret: string;
  tokenTtlSeconds: number;
  loginMaxAttempts: number;
  loginWindowSeconds: number;
  credentialMaxFailures: number;
  credentialWindowSeconds: number;
}

export class AuthService {
  readonly #store: Store;
  readonly #options: AuthOptions;
  readonly #signer: TokenSigner;
  readonly #limiter: LoginLimiter;
  readonly #credentialLimiter: CredentialLimiter;
  /** last_used_at is written at most once a minute per key so key auth stays off the write path. */
  readonly #touched = new Map<string, number>();
  /** Key hash → owner; revocation in this process drops the entry, other processes see it within the TTL. */
  readonly #onRevoked: ((keyId: string) => Promise<void>) | undefined;
  readonly #keys = new TtlCache<{ keyId: string; principal: Principal }>(5_000);

  /** `onRevoked`: tells the other processes (apiKeys.revoked on the bus) before the revocation is answered. */
  constructor(store: Store, options: AuthOptions, onRevoked?: (keyId: string) => Promise<void>) {
    this.#onRevoked = onRevoked;
    this.#store = store;
    this.#options = options;
    this.#signer = new TokenSigner(options.jwtSecret, options.tokenTtlSeconds);
    this.#limiter = new LoginLimiter(options.loginMaxAttempts, options.loginWindowSeconds);
    this.#credentialLimiter = new CredentialLimiter(options.credentialMaxFailures, options.credentialWindowSeconds);
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
    const keys = [`u:${username}`, `ip:${clientKey(clientIp)}`];
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

  /**
   * Resolves a bearer credential (JWT or API key) sent from `clientAddress` to a principal, or throws
   * INVALID_TOKEN; past CREDENTIAL_MAX_FAILURES from that client, RATE_LIMITED (CredentialLimiter).
   */
  async authenticate(credential: string, clientAddress: string): Promise<Principal> {
    const client = clientKey(clientAddress);
    // The SHA-256 that names an API key in the store also names a token among the known credentials.
    const digest = hashApiKey(credential);
    const settle = this.#credentialLimiter.admit(client, digest);
    let outcome: AttemptOutcome = 'error';
    try {
      const principal = looksLikeApiKey(credential) ? await this.#byApiKey(digest) : await this.#byToken(credential);
      outcome = 'valid';
      return principal;
    } catch (err) {
      if (err instanceof AppError && err.code === 'INVALID_TOKEN') outcome = 'invalid';
      throw err;
    } finally {
      settle(outcome);
    }
  }

  async #byApiKey(hash: string): Promise<Principal> {
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

  async #byToken(token: string): Promise<Principal> {
    const claims = await this.#signer.verify(token);
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
    this.forgetKey(keyId);
    await this.#onRevoked?.(keyId);
  }

  /** A key revoked (here or by another process) is not accepted from the cache any more. */
  forgetKey(keyId: string): void {
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
