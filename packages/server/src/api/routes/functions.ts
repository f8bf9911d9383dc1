import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { AppError } from '../../core/errors.ts';
import { jsonTooDeep, nestedDeeperThan } from '../../core/json-depth.ts';
import type { AuthService } from '../../auth/service.ts';
import type { CodeInput, FunctionFields, FunctionService } from '../../functions/service.ts';
import { detectBundleFormat } from '../../functions/bundle.ts';
import type { Exposure, FunctionRecord, FunctionVersion } from '../../core/types.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import {
  BundleUpload, ExposureResponse, ExposureUpdate, FunctionDeploy, FunctionMetadata, FunctionResponse, FunctionVersionResponse, IdParams, NameParams, NoContent, RouteListItem, errorResponses, listOf,
} from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

const metadataValidator = Compile(FunctionMetadata);

const deployBody = { content: { 'application/json': { schema: FunctionDeploy }, 'multipart/form-data': { schema: BundleUpload } } };

const NOT_EXPOSED: Exposure = { public: false, routes: [] };
const toResponse = ({ ownerId: _owner, ...fn }: FunctionRecord, exposure: Exposure) => ({ ...fn, ...exposure });
const toVersionResponse = ({ id: _id, functionId: _fn, ...v }: FunctionVersion) => v;

/** A function as the API answers it: its current version with its routes and public flag. */
export const functionResponse = async (functions: FunctionService, request: FastifyRequest, fn: FunctionRecord) => toResponse(fn, await functions.exposure(principalOf(request), fn.id));

/** The `metadata` form field of a multipart deploy: JSON with the deploy's fields. */
export function parseMetadataField(text: string): FunctionFields {
  if (nestedDeeperThan(text)) throw jsonTooDeep('The metadata field');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('INVALID_JSON', 'the metadata field is not valid JSON');
  }
  if (!metadataValidator.Check(parsed)) {
    const first = [...metadataValidator.Errors(parsed)].find((e) => e.keyword !== 'boolean');
    throw new AppError('VALIDATION_FAILED', `metadata${first?.instancePath ?? ''} ${first?.message ?? 'is not valid'}`);
  }
  return parsed;
}

/** Reads a deploy from JSON or from multipart (`metadata` JSON field + `bundle` file). */
async function readDeploy(request: FastifyRequest, maxBundleBytes: number): Promise<{ fields: FunctionFields; code: CodeInput | undefined }> {
  if (!request.isMultipart()) {
    const body = (request.body ?? {}) as FunctionDeploy;
    const { code, filename, files, ...fields } = body;
    if (code !== undefined && files !== undefined) throw new AppError('VALIDATION_FAILED', 'give either "code" or "files", not both');
    if (filename !== undefined && code === undefined) throw new AppError('VALIDATION_FAILED', '"filename" goes with "code"');
    const input: CodeInput | undefined = code !== undefined ? { kind: 'inline', code, filename } : files !== undefined ? { kind: 'files', files } : undefined;
    return { fields, code: input };
  }
  let fields: FunctionFields = {};
  let code: CodeInput | undefined;
  for await (const part of request.parts({ limits: { fileSize: maxBundleBytes, files: 1, fields: 4, fieldSize: 256 * 1024 } })) {
    if (part.type === 'field') {
      if (part.fieldname !== 'metadata') throw new AppError('VALIDATION_FAILED', `unknown form field "${part.fieldname}"`);
      fields = parseMetadataField(String(part.value));
    } else {
      if (part.fieldname !== 'bundle') throw new AppError('VALIDATION_FAILED', `unknown file field "${part.fieldname}"; upload the code as "bundle"`);
      const data = await part.toBuffer();
      if (part.file.truncated) throw new AppError('PAYLOAD_TOO_LARGE', `the bundle is larger than ${maxBundleBytes} bytes`);
      code = { kind: 'bundle', data, format: detectBundleFormat(data) };
    }
  }
  return { fields, code };
}

export function functionRoutes(auth: AuthService, functions: FunctionService, maxBundleBytes: number): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));
    const tags = ['functions'];

    const withExposure = (request: FastifyRequest, fn: FunctionRecord) => functionResponse(functions, request, fn);

    app.get('/functions', { schema: { tags, summary: 'List your functions', response: { 200: listOf(FunctionResponse), ...errorResponses(401) } } },
      async (request) => {
        const [items, exposures] = await Promise.all([functions.list(principalOf(request)), functions.exposures(principalOf(request))]);
        return { items: items.map((fn) => toResponse(fn, exposures.get(fn.id) ?? NOT_EXPOSED)) };
      });

    app.post('/functions', {
      bodyLimit: maxBundleBytes + 1024 * 1024,
      schema: { tags, summary: 'Deploy a function (JSON code/files, or a multipart bundle)', body: deployBody, response: { 201: FunctionResponse, ...errorResponses(400, 401, 409, 413, 415) } },
    }, async (request, reply) => {
      const { fields, code } = await readDeploy(request, maxBundleBytes);
      return reply.code(201).send(await withExposure(request, await functions.create(principalOf(request), fields, code)));
    });

    app.get('/functions/:id', { schema: { tags, summary: 'A function by id', params: IdParams, response: { 200: FunctionResponse, ...errorResponses(401, 404) } } },
      async (request) => withExposure(request, await functions.get(principalOf(request), request.params.id)));

    app.put('/functions/:id', {
      bodyLimit: maxBundleBytes + 1024 * 1024,
      schema: { tags, summary: 'Update a function: creates a new immutable version', params: IdParams, body: deployBody, response: { 200: FunctionResponse, ...errorResponses(400, 401, 404, 409, 413, 415) } },
    }, async (request) => {
      const { fields, code } = await readDeploy(request, maxBundleBytes);
      return withExposure(request, await functions.update(principalOf(request), request.params.id, fields, code));
    });

    app.delete('/functions/:id', { schema: { tags, summary: 'Delete a function and all its versions', params: IdParams, response: { 204: NoContent, ...errorResponses(401, 404) } } },
      async (request, reply) => {
        await functions.delete(principalOf(request), request.params.id);
        return reply.code(204).send(null);
      });

    app.get('/functions/:id/versions', { schema: { tags, summary: 'All versions of a function, newest first', params: IdParams, response: { 200: listOf(FunctionVersionResponse), ...errorResponses(401, 404) } } },
      async (request) => ({ items: (await functions.versions(principalOf(request), request.params.id)).map(toVersionResponse) }));

    app.get('/functions/name/:name', { schema: { tags, summary: 'A function by name', params: NameParams, response: { 200: FunctionResponse, ...errorResponses(401, 404) } } },
      async (request) => withExposure(request, await functions.getByName(principalOf(request), request.params.name)));

    app.get('/routes', { schema: { tags: ['gateway'], summary: 'All HTTP routes of your functions on the gateway', response: { 200: listOf(RouteListItem), ...errorResponses(401) } } },
      async (request) => ({ items: await functions.routes(principalOf(request)) }));

    app.put('/functions/:id/routes', {
      schema: { tags: ['gateway'], summary: 'Set a function\'s gateway routes and/or public flag (no new version; live at once)', params: IdParams, body: ExposureUpdate, response: { 200: ExposureResponse, ...errorResponses(400, 401, 404, 409) } },
    }, async (request) => functions.setExposure(principalOf(request), request.params.id, request.body));
  };
}
