/**
 * application/x-www-form-urlencoded bodies (the token endpoint, RFC 6749 §3.2; the SAML HTTP-POST
 * binding, bindings §3.5): refused over the size bound before they are buffered whole.
 */
import type { Context } from 'koa';
import type { FormFields } from '../auth/saml/grant.ts';

const FORM_TYPE = 'application/x-www-form-urlencoded';

export class FormProblem extends Error {
  readonly status: number;
  constructor(status: number, description: string) {
    super(description);
    this.status = status;
  }
}

/** The form fields; a repeated key becomes an array (grant.ts refuses repeats, RFC 6749 §3.2). */
export async function readForm(ctx: Context, limitBytes: number): Promise<FormFields> {
  const type = (ctx.get('Content-Type') || '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE) throw new FormProblem(400, `the request body must be ${FORM_TYPE}`);
  if (Number(ctx.get('Content-Length') || '0') > limitBytes) {
    throw new FormProblem(413, `the request body exceeds ${limitBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) {
      ctx.req.destroy();
      throw new FormProblem(413, `the request body exceeds ${limitBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    // Own keys only: a field named __proto__ is just a field.
    const seen = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (seen === undefined) fields[key] = value;
    else fields[key] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return fields;
}
