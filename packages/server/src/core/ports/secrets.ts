/** Resolves an owner's secrets by name into environment variables, on the worker that runs the code. */
export interface SecretResolver {
  /**
   * `database_url` → `DATABASE_URL`. The digest changes when any value changes, so instances holding
   * different values are kept apart. Throws SecretsUnavailableError when one cannot be provided.
   */
  resolve(ownerId: string, names: readonly string[]): Promise<{ env: Record<string, string>; digest: string }>;
}

/** A secret a function needs does not exist or cannot be decrypted: the execution fails closed. */
export class SecretsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretsUnavailableError';
  }
}
