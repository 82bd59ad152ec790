/**
 * LDAP result codes (RFC 4511 §4.1.9, Appendix A) and transport failures -> port errors.
 * Nothing outside src/ldap sees an ldapts error.
 */
import { ResultCodeError } from 'ldapts';
import {
  AlreadyExistsError,
  AssertionFailedError,
  ConstraintError,
  type ConstraintKind,
  NotFoundError,
  PortError,
  RefusedError,
  TooManyResultsError,
  UnavailableError,
} from '../ports/errors.ts';

/** LDAP result codes the bridge distinguishes (RFC 4511 Appendix A.1, RFC 4528 §5 for 122). */
export const ResultCode = {
  sizeLimitExceeded: 4,
  noSuchAttribute: 16,
  undefinedAttributeType: 17,
  inappropriateMatching: 18,
  constraintViolation: 19,
  attributeOrValueExists: 20,
  invalidAttributeSyntax: 21,
  noSuchObject: 32,
  invalidDNSyntax: 34,
  busy: 51,
  unavailable: 52,
  unwillingToPerform: 53,
  namingViolation: 64,
  objectClassViolation: 65,
  notAllowedOnRDN: 67,
  entryAlreadyExists: 68,
  objectClassModsProhibited: 69,
  other: 80,
  assertionFailed: 122,
} as const;

/** The client sent values the directory will not store: the SCIM client's fault (400). */
const CONSTRAINT_CODES: ReadonlySet<number> = new Set([
  ResultCode.noSuchAttribute,
  ResultCode.undefinedAttributeType,
  ResultCode.constraintViolation,
  ResultCode.attributeOrValueExists,
  ResultCode.invalidAttributeSyntax,
  ResultCode.invalidDNSyntax,
  ResultCode.namingViolation,
  ResultCode.objectClassViolation,
  ResultCode.notAllowedOnRDN,
  ResultCode.objectClassModsProhibited,
]);

/** The directory understood but will not do it (access, policy, unsupported critical control). */
const REFUSED_CODES: ReadonlySet<number> = new Set([
  7, // authMethodNotSupported
  8, // strongAuthRequired
  12, // unavailableCriticalExtension
  13, // confidentialityRequired
  ResultCode.inappropriateMatching,
  50, // insufficientAccessRights
  ResultCode.unwillingToPerform,
  66, // notAllowedOnNonLeaf
  71, // affectsMultipleDSAs
]);

/** Transient or server-side trouble: the client may retry later (503). */
const UNAVAILABLE_CODES: ReadonlySet<number> = new Set([
  1, // operationsError
  2, // protocolError
  3, // timeLimitExceeded
  ResultCode.busy,
  ResultCode.unavailable,
  54, // loopDetect
  ResultCode.other,
]);

const TOO_MANY_CODES: ReadonlySet<number> = new Set([
  ResultCode.sizeLimitExceeded,
  11, // adminLimitExceeded: Active Directory's answer when MaxPageSize / MaxResultSetSize is hit
]);

/** Socket-level errno codes that mean "the directory cannot be reached right now". */
const NETWORK_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_DESTROYED',
  'ERR_SOCKET_CLOSED',
]);

/** Messages of the plain Errors ldapts throws for transport failures (ldapts 9 Client.ts). */
const LDAPTS_TRANSPORT_MESSAGES =
  /Socket error|Connection closed before message response|Connection timeout|Operation timed out|Socket connection not established/;

/**
 * A transport failure before the request went out (no connection, the bind failed on the way, the
 * connection was already gone): the directory cannot have acted on it, even for a write.
 */
export class RequestNotSentError extends Error {
  override readonly name = 'RequestNotSentError';
}

/** True when `error` is the LDAP result code `code`. */
export function hasResultCode(error: unknown, code: number): boolean {
  return error instanceof ResultCodeError && error.code === code;
}

/**
 * True for failures of the connection rather than of the operation: nothing came back, so a write's
 * outcome is unknown and a read may be retried on a fresh connection.
 */
export function isTransportFailure(error: unknown): boolean {
  if (error instanceof ResultCodeError) return false;
  if (error instanceof RequestNotSentError) return true;
  if (!(error instanceof Error)) return false;
  const errno = (error as NodeJS.ErrnoException).code;
  if (
    typeof errno === 'string' &&
    (NETWORK_ERRNOS.has(errno) || errno.startsWith('ERR_TLS') || errno.includes('CERT'))
  ) {
    return true;
  }
  return LDAPTS_TRANSPORT_MESSAGES.test(error.message);
}

/**
 * The attribute a directory's diagnostic message names, lower-cased like DirEntry keys.
 * OpenLDAP: "object class 'inetOrgPerson' requires attribute 'sn'", "attribute 'x' not allowed",
 * "scimActive: value #0 invalid per syntax", "modify/add: mail: value #0 already exists".
 * 389-DS: 'missing attribute "sn" required by object class "inetOrgPerson"'.
 */
export function attributeFromDiagnostic(message: string): string | undefined {
  const patterns = [
    /\battribute ['"]([A-Za-z][\w-]*(?:;[\w-]+)*)['"]/,
    /^(?:modify\/\w+: )?([A-Za-z][\w-]*(?:;[\w-]+)*): /,
    /\b([A-Za-z][\w-]*): attribute type undefined/,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(message);
    if (match?.[1]) return match[1].toLowerCase();
  }
  return undefined;
}

/** What a constraint result code says about the refused value (RFC 4511 Appendix A.2). */
function constraintKind(code: number): ConstraintKind {
  switch (code) {
    case ResultCode.invalidAttributeSyntax:
    case ResultCode.invalidDNSyntax:
      return 'syntax';
    case ResultCode.constraintViolation:
      return 'constraint';
    case ResultCode.attributeOrValueExists:
      return 'exists';
    case ResultCode.noSuchAttribute:
      return 'missing';
    case ResultCode.namingViolation:
    case ResultCode.notAllowedOnRDN:
      return 'naming';
    default:
      return 'schema';
  }
}

/** What was being done, for the error message: `add uid=x,ou=People,...`. */
export type OperationContext = string;

/**
 * Translates anything an ldapts call threw into a port error. Errors that are neither LDAP result
 * codes nor transport failures are programming errors and are returned unchanged.
 */
export function toPortError(error: unknown, context: OperationContext): unknown {
  if (error instanceof PortError) return error;
  if (isTransportFailure(error)) {
    return new UnavailableError(
      `directory unreachable during ${context}: ${(error as Error).message}`,
      error,
    );
  }
  if (!(error instanceof ResultCodeError)) return error;

  const code = error.code;
  // ldapts appends " Code: 0x41" to the server's diagnostic message; keep the server's words only.
  const diagnostic = error.message.replace(/\s*Code: 0x[0-9a-f]+$/i, '');
  const described = `${context}: LDAP result ${code}${diagnostic ? ` (${diagnostic})` : ''}`;
  if (code === ResultCode.noSuchObject) return new NotFoundError(described, error);
  if (code === ResultCode.entryAlreadyExists) return new AlreadyExistsError(described, error);
  if (code === ResultCode.assertionFailed) return new AssertionFailedError(described, error);
  if (CONSTRAINT_CODES.has(code))
    return new ConstraintError(described, attributeFromDiagnostic(diagnostic), error, constraintKind(code));
  if (REFUSED_CODES.has(code)) return new RefusedError(described, error);
  if (UNAVAILABLE_CODES.has(code)) return new UnavailableError(described, error);
  if (TOO_MANY_CODES.has(code)) return new TooManyResultsError(described, error);
  // 49 invalidCredentials can only come from the service account's own bind: a deployment problem.
  if (code === 49)
    return new UnavailableError(`${described}: check the service account's bind DN and password`, error);
  return new PortError(described, error);
}
