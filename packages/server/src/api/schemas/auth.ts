import { Type } from 'typebox';
import { StringEnum } from './common.ts';

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: StringEnum(['admin', 'user'], { description: 'The first user to register is admin' }),
  createdAt: Type.String(),
});

export const Credentials = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const LoginResult = Type.Object({
  token: Type.String({ description: 'A session JWT: send it as `Authorization: Bearer <token>`' }),
  expiresAt: Type.String(),
});

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
});

/** POST /auth/api-key: the body may be left out. */
export const ApiKeyCreate = Type.Optional(Type.Object({ name: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }));

export const NewApiKey = Type.Object({
  ...Type.Omit(ApiKey, ['lastUsedAt']).properties,
  key: Type.String({ description: 'The API key itself. It is shown only this once.' }),
});
