import { Type } from 'typebox';

export const SecretMeta = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String(), updatedAt: Type.String() });

const SecretValue = Type.String({ maxLength: 65536, description: 'Stored encrypted (AES-256-GCM); never returned by the API' });

export const SecretCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), value: SecretValue }, { additionalProperties: false });
export const SecretUpdate = Type.Object({ value: SecretValue }, { additionalProperties: false });
