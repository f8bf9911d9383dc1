import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { AuthService } from '../../auth/service.ts';
import type { ObjectService } from '../../objects/service.ts';
import type { ObjectInfo } from '../../core/types.ts';
import { AppError } from '../../core/errors.ts';
import { authenticateHook, principalOf } from '../auth-hook.ts';
import { NoContent, ObjectDownload, ObjectListParams, ObjectMeta, ObjectParams, ObjectUpload, errorResponses, listOf } from '../schemas/index.ts';
import type { TypedInstance } from '../typed.ts';

const toMeta = ({ id: _id, functionId: _fn, ...meta }: ObjectInfo) => meta;

/** Per-function objects: upload (raw body or multipart, streamed), download, list, delete. */
export function objectRoutes(auth: AuthService, objects: ObjectService): FastifyPluginAsync {
  return async (app0) => {
    const app = app0 as TypedInstance;
    app.addHook('onRequest', authenticateHook(auth));
    // Uploads are streamed to disk as they arrive, whatever their type: no body is parsed or buffered here.
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const tags = ['objects'];

    async function upload(request: FastifyRequest<{ Params: { functionId: string; name: string } }>, reply: FastifyReply, status: number) {
      let stream: Readable;
      let contentType: string | undefined;
      if (request.isMultipart()) {
        const file = await request.file({ limits: { fileSize: objects.maxBytes, files: 1 } });
        if (file === undefined) throw new AppError('VALIDATION_FAILED', 'the multipart upload has no file');
        stream = file.file;
        contentType = file.mimetype;
      } else {
        stream = (request.body as Readable | undefined) ?? (await import('node:stream')).Readable.from([]);
        contentType = request.headers['content-type'];
      }
      const info = await objects.put(principalOf(request), request.params.functionId, request.params.name, stream, contentType);
      return reply.code(status).send(toMeta(info));
    }

    const uploadSchema = (summary: string, status: number) => ({
      tags,
      summary,
      params: ObjectParams,
      body: ObjectUpload,
      response: { [status]: ObjectMeta, ...errorResponses(400, 401, 404, 413) },
    });

    app.post('/function-objects/:functionId/:name', { schema: uploadSchema('Upload an object (replaces one with the same name)', 201) }, (request, reply) => upload(request, reply, 201));
    app.put('/function-objects/:functionId/:name', { schema: uploadSchema('Upload or replace an object', 200) }, (request, reply) => upload(request, reply, 200));

    app.get('/function-objects/:functionId/:name', {
      schema: { tags, summary: 'Download an object', params: ObjectParams, response: { 200: ObjectDownload, ...errorResponses(401, 404) } },
    }, async (request, reply) => {
      const { info, stream } = await objects.open(principalOf(request), request.params.functionId, request.params.name);
      return reply
        .type(info.contentType)
        .header('content-length', String(info.size))
        .header('etag', `"${info.checksum.slice('sha256:'.length)}"`)
        .header('last-modified', new Date(info.updatedAt).toUTCString())
        .send(stream);
    });

    app.delete('/function-objects/:functionId/:name', { schema: { tags, summary: 'Delete an object', params: ObjectParams, response: { 204: NoContent, ...errorResponses(401, 404) } } },
      async (request, reply) => {
        await objects.delete(principalOf(request), request.params.functionId, request.params.name);
        return reply.code(204).send(null);
      });

    app.get('/function-objects/:functionId', { schema: { tags, summary: "A function's objects", params: ObjectListParams, response: { 200: listOf(ObjectMeta), ...errorResponses(401, 404) } } },
      async (request) => ({ items: (await objects.list(principalOf(request), request.params.functionId)).map(toMeta) }));
  };
}
