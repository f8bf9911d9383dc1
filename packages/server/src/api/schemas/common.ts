import { Type, type TSchema } from 'typebox';
import { ERROR_CODES, type ErrorCode as ErrorCodeName } from '../../core/errors.ts';

/**
 * A string that is one of `values`, as `{type: "string", enum}`: one keyword in the OpenAPI document
 * and a plain string to the response serializer (a union of literals would be tried branch by branch).
 */
export const StringEnum = <const T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

/** Every member of a string union, checked by the compiler: `keysOf<Union>({a: true, b: true})`. */
export const keysOf = <T extends string>(members: Record<T, true>): T[] => Object.keys(members) as T[];

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const listOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });

/** The common error responses added to every route's schema. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('ErrorResponse')]));

export const ErrorCode = StringEnum(Object.keys(ERROR_CODES) as ErrorCodeName[], { description: 'Stable error codes (docs/errors.md)' });

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: ErrorCode,
      message: Type.String(),
      requestId: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error answers with this shape and a stable code (docs/errors.md).' },
);

export const NoContent = Type.Null({ description: 'No content' });

export const IdParams = Type.Object({ id: Type.String({ maxLength: 128 }) }, { additionalProperties: false });
export const NameParams = Type.Object({ name: Type.String({ maxLength: 512 }) }, { additionalProperties: false });

export const HealthStatus = Type.Object({ status: StringEnum(['ok', 'ready']) });
