import type { Context, Next } from 'koa';
import { ScimError } from '../../scim/errors.ts';
import { parseJsonBody } from '../../scim/json-text.ts';

const ACCEPTED_TYPES = ['application/scim+json', 'application/json'];
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** limits.jsonMaxDepth's default, for apps built without it (tests). */
const DEFAULT_JSON_MAX_DEPTH = 64;

/**
 * Reads a JSON request body for methods that carry one. RFC 7644 §3.1 names application/scim+json;
 * application/json is accepted too (IdPs send it). Bodies over the limit are refused with 413
 * before they are buffered whole; invalid UTF-8, lone surrogates and nesting deeper than
 * `maxDepth` are 400 invalidSyntax before JSON.parse (scim/json-text.ts).
 */
export function jsonBody(limitBytes: number, maxDepth = DEFAULT_JSON_MAX_DEPTH) {
  // Requests without a body pass straight through (no async frame of their own).
  return (ctx: Context, next: Next): Promise<void> =>
    METHODS_WITH_BODY.has(ctx.method) ? readBody(ctx, next) : next();

  async function readBody(ctx: Context, next: Next): Promise<void> {
    const declared = Number(ctx.get('Content-Length') || '0');
    if (declared > limitBytes)
      throw ScimError.payloadTooLarge(`request body of ${declared} bytes exceeds the limit of ${limitBytes}`);
    const type = (ctx.get('Content-Type') || '').split(';')[0]?.trim().toLowerCase() ?? '';
    const chunks: Buffer[] = [];
    let size = 0;
    // Leaving the loop early (413) must not destroy the request: its socket carries the answer.
    for await (const chunk of ctx.req.iterator({ destroyOnReturn: false })) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > limitBytes) {
        // A chunked body has no length to refuse up front: answer 413 and drop the rest as it
        // arrives (a reset socket would leave the client without an answer), then close. A body
        // that never ends is cut off by the server's request timeout (server.requestTimeoutMs).
        ctx.req.resume();
        ctx.set('Connection', 'close');
        throw ScimError.payloadTooLarge(`request body exceeds the limit of ${limitBytes} bytes`);
      }
      chunks.push(buffer);
    }
    ctx.state.bodyBytes = size;
    const bytes = Buffer.concat(chunks);
    if (type && !ACCEPTED_TYPES.includes(type) && bytes.toString('latin1').trim() !== '') {
      throw ScimError.unsupportedMediaType(
        `Content-Type ${type} is not accepted; send application/scim+json`,
      );
    }
    ctx.state.body = parseJsonBody(bytes, maxDepth);
    await next();
  }
}
