/**
 * OAuth 2.0 token endpoint refusals (RFC 6749 §5.2). A description is written by us and never
 * quotes what the client sent: assertions and tokens stay out of answers and logs.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export interface OAuthRefusal {
  readonly ok: false;
  readonly error: OAuthErrorCode;
  readonly description: string;
}

export function refuse(error: OAuthErrorCode, description: string): OAuthRefusal {
  return { ok: false, error, description };
}
