import type { FastifyInstance } from 'fastify';
import { jsonTooDeep, nestedDeeperThan } from '../core/json-depth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON request body as received, kept so an invocation's event is not serialised again. */
    jsonText: string | undefined;
  }
}

/**
 * Every JSON body goes through Fastify's own parser (the app's poisoning rules), after a check of its
 * nesting: JSON nested past MAX_JSON_DEPTH is refused before it is parsed. The text is kept.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.decorateRequest('jsonText', undefined);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (nestedDeeperThan(text)) return done(jsonTooDeep(), undefined);
    // A byte-order mark is skipped by the parser; the text sent on must not start with one either.
    request.jsonText = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    parseJson(request, text, done);
  });
}
