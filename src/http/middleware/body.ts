import type { Context, Next } from 'koa';
import { ScimError } from '../../scim/errors.ts';

const ACCEPTED_TYPES = ['application/scim+json', 'application/json'];
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Reads a JSON request body for methods that carry one. RFC 7644 §3.1 names application/scim+json;
 * application/json is accepted too (IdPs send it). Bodies over the limit are refused with 413
 * before they are buffered whole.
 */
export function jsonBody(limitBytes: number) {
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
    for await (const chunk of ctx.req) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > limitBytes) {
        ctx.req.destroy();
        throw ScimError.payloadTooLarge(`request body exceeds the limit of ${limitBytes} bytes`);
      }
      chunks.push(buffer);
    }
    ctx.state.bodyBytes = size;
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') {
      ctx.state.body = undefined;
    } else {
      if (type && !ACCEPTED_TYPES.includes(type)) {
        throw ScimError.unsupportedMediaType(
          `Content-Type ${type} is not accepted; send application/scim+json`,
        );
      }
      try {
        ctx.state.body = JSON.parse(text);
      } catch (error) {
        throw ScimError.invalidSyntax(`request body is not valid JSON: ${(error as Error).message}`);
      }
    }
    await next();
  }
}
