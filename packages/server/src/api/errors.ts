import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import { asAppError } from '../core/request-context.ts';

/** Fastify's and its plugins' own error codes, mapped onto ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_PROTO_VIOLATION: 'BAD_REQUEST',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}

/** A 415 that says what to send instead of what was sent. */
export function unsupportedMediaType(contentType: string | undefined): AppError {
  const sent = contentType ? `content-type ${JSON.stringify(contentType.slice(0, 100))}` : 'a body without a content-type';
  return new AppError('UNSUPPORTED_MEDIA_TYPE', `This endpoint does not accept ${sent}: send JSON with the header \`content-type: application/json\` (a deploy may also be multipart/form-data with a bundle file)`);
}

export function toAppError(err: FastifyError | Error, contentType?: string): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError;
  if (fe.validation !== undefined) {
    const where = fe.validationContext ?? 'body';
    return new AppError('VALIDATION_FAILED', `${where}${fe.message.replace(/^(body|querystring|params|headers)/, '')}`);
  }
  if (fe.code !== undefined && fe.code in FASTIFY_CODES) {
    const code = FASTIFY_CODES[fe.code];
    if (code === 'UNSUPPORTED_MEDIA_TYPE') return unsupportedMediaType(contentType);
    return new AppError(code, code === 'INVALID_JSON' ? ERROR_CODES.INVALID_JSON.message : fe.message);
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) return new AppError('INVALID_JSON');
  if (fe.statusCode === 429) return new AppError('RATE_LIMITED', fe.message);
  if (fe.statusCode === 413) return new AppError('PAYLOAD_TOO_LARGE');
  if (fe.statusCode === 415) return unsupportedMediaType(contentType);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new AppError('BAD_REQUEST', fe.message);
  return asAppError(err);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: FastifyError | Error): FastifyReply {
  const appError = toAppError(err, request.headers['content-type']);
  if (appError.code === 'INTERNAL') request.log.error({ err }, 'unhandled error');
  else if (appError.status >= 500) request.log.warn({ code: appError.code }, appError.message);
  if (appError.headers !== undefined) void reply.headers(appError.headers);
  const body: ErrorBody = { error: { code: appError.code, message: appError.message, requestId: String(request.id) } };
  if (appError.details !== undefined) body.error.details = appError.details;
  return reply.code(appError.status).type('application/json; charset=utf-8').send(body);
}
