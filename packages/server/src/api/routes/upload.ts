import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../core/errors.ts';
import type { AuthService } from '../../auth/service.ts';
import type { FunctionFields, FunctionService } from '../../functions/service.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { FunctionResponse, SeedDelete, SeedUpload, errorResponses } from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';
import { functionResponse, parseMetadataField } from './functions.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Single-value form fields of a multipart upload, besides `metadata` (JSON) and the archive. */
const FORM_FIELDS = ['name', 'runtime', 'handler'] as const;

function decodeArchive(zip: string): Buffer {
  const compact = zip.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) throw new AppError('INVALID_BUNDLE', '"zip" must be the base64 of a .zip, .tar.gz or .tar archive');
  return Buffer.from(compact, 'base64');
}

/** `name` (and `runtime`, `handler`, or a `metadata` JSON field) plus one file: the archive, whatever its field name. */
async function readMultipart(request: FastifyRequest, maxBundleBytes: number): Promise<{ fields: FunctionFields; archive?: Buffer }> {
  let metadata: FunctionFields = {};
  const named: Record<string, string> = {};
  let archive: Buffer | undefined;
  for await (const part of request.parts({ limits: { fileSize: maxBundleBytes, files: 1, fields: 8, fieldSize: 256 * 1024 } })) {
    if (part.type === 'file') {
      archive = await part.toBuffer();
      if (part.file.truncated) throw new AppError('PAYLOAD_TOO_LARGE', `the archive is larger than ${maxBundleBytes} bytes`);
    } else if (part.fieldname === 'metadata') metadata = parseMetadataField(String(part.value));
    else if ((FORM_FIELDS as readonly string[]).includes(part.fieldname)) named[part.fieldname] = String(part.value);
    else throw new AppError('VALIDATION_FAILED', `unknown form field "${part.fieldname}"; send name, runtime, handler, metadata and the archive`);
  }
  return { fields: { ...metadata, ...named }, archive };
}

/**
 * Seed 002's control plane (AubeFaaS): `POST /upload` deploys a folder as a function (a new version when
 * the name exists), `POST /delete` removes one by name. Thin aliases over the function service,
 * authenticated like the rest of the API (docs/api.md).
 */
export function uploadRoutes(auth: AuthService, functions: FunctionService, maxBundleBytes: number): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));
    // The seed's upload script sends its JSON with curl --data, i.e. under the form content type.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
    const tags = ['seed'];
    const body = (json: typeof SeedUpload | typeof SeedDelete, multipart: boolean) => ({
      content: {
        'application/json': { schema: json },
        'application/x-www-form-urlencoded': { schema: json },
        ...(multipart ? { 'multipart/form-data': { schema: Type.Unsafe({ description: 'name, runtime?, handler?, metadata? (JSON) and one archive file (.zip, .tar.gz, .tar)' }) } } : {}),
      },
    });

    app.post('/upload', {
      bodyLimit: Math.ceil(maxBundleBytes / 3) * 4 + 1024 * 1024,
      schema: { tags, summary: 'Upload a folder (an archive) as a function, or as its next version', body: body(SeedUpload, true), response: { 200: FunctionResponse, 201: FunctionResponse, ...errorResponses(400, 401, 409, 413, 415) } },
    }, async (request, reply) => {
      let fields: FunctionFields;
      let archive: Buffer | undefined;
      if (request.isMultipart()) ({ fields, archive } = await readMultipart(request, maxBundleBytes));
      else {
        const { zip, ...rest } = request.body as SeedUpload;
        fields = rest;
        archive = decodeArchive(zip);
      }
      if (archive === undefined) throw new AppError('VALIDATION_FAILED', 'the upload has no archive: attach a .zip, .tar.gz or .tar file');
      const { fn, created } = await functions.upload(principalOf(request), fields, archive);
      return reply.code(created ? 201 : 200).send(await functionResponse(functions, request, fn));
    });

    app.post('/delete', {
      schema: { tags, summary: 'Delete a function by name', body: body(SeedDelete, false), response: { 204: Type.Null(), ...errorResponses(400, 401, 404) } },
    }, async (request, reply) => {
      const owner = principalOf(request);
      const fn = await functions.getByName(owner, (request.body as { name: string }).name);
      await functions.delete(owner, fn.id);
      return reply.code(204).send(null);
    });
  };
}
