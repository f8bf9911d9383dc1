import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class SecretDecryptError extends Error {
  constructor(name: string) {
    super(`secret "${name}" cannot be decrypted (wrong SECRETS_KEY, or the stored value was altered)`);
    this.name = 'SecretDecryptError';
  }
}

/**
 * AES-256-GCM under the master key. The owner and the secret's name are authenticated data, so a
 * ciphertext moved to another owner or name no longer decrypts.
 */
export class SecretCipher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError('the secrets master key must be 32 bytes');
    this.#key = key;
  }

  encrypt(ownerId: string, nameKey: string, value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(`${ownerId}\0${nameKey}`));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  decrypt(ownerId: string, nameKey: string, stored: string): string {
    try {
      const raw = Buffer.from(stored, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${ownerId}\0${nameKey}`));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptError(nameKey);
    }
  }
}
