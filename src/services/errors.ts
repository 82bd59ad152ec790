/**
 * The one place where port errors become SCIM errors (docs/architecture.md §Layers: services own this translation).
 */
import { DeadlineExceededError } from '../lib/deadline.ts';
import { MappingValueError } from '../mapping/convert.ts';
import {
  AlreadyExistsError,
  AssertionFailedError,
  ConstraintError,
  type ConstraintKind,
  NotFoundError,
  RefusedError,
  TooManyResultsError,
  UnavailableError,
} from '../ports/errors.ts';
import { ScimError } from '../scim/errors.ts';

/** Seconds a client should wait before retrying when the directory or Redis is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

export function toScimError(
  error: unknown,
  what: string,
  attributeForLdap?: (ldap: string) => string | undefined,
): unknown {
  if (error instanceof ScimError) return error;
  if (error instanceof MappingValueError) return ScimError.invalidValue(error.message);
  if (error instanceof NotFoundError) return ScimError.notFound(`${what} not found`);
  if (error instanceof AlreadyExistsError) return ScimError.uniqueness(`${what} already exists`);
  if (error instanceof AssertionFailedError) {
    return ScimError.preconditionFailed(`${what} was modified since the version given in If-Match`);
  }
  if (error instanceof ConstraintError) {
    const scimName = error.attribute ? attributeForLdap?.(error.attribute) : undefined;
    const subject = scimName ?? (error.attribute ? `directory attribute ${error.attribute}` : 'a value');
    // The directory's own words (its DNs, result codes) go to the log through `cause`, not to the client.
    return withCause(
      ScimError.invalidValue(
        `the directory rejected ${subject}: ${CONSTRAINT_REASONS[error.kind ?? 'schema']}`,
      ),
      error,
    );
  }
  if (error instanceof TooManyResultsError)
    return ScimError.tooMany(
      'the query matches more resources than the directory returns; narrow the filter',
    );
  if (error instanceof DeadlineExceededError) {
    return ScimError.unavailable("the request's deadline passed; retry later", RETRY_AFTER_SECONDS);
  }
  if (error instanceof UnavailableError) {
    return withCause(
      ScimError.unavailable('the directory is unavailable; retry later', RETRY_AFTER_SECONDS),
      error,
    );
  }
  if (error instanceof RefusedError) {
    return withCause(
      ScimError.forbidden(
        error.clientDetail ??
          'the directory refused the operation (access rights or directory policy); ask the directory administrator',
      ),
      error,
    );
  }
  return error;
}

/** What each kind of refused value means, in the client's terms (ports/errors.ts ConstraintKind). */
const CONSTRAINT_REASONS: Record<ConstraintKind, string> = {
  syntax: 'the value is not in a form the directory accepts for it',
  constraint: 'the value breaks a directory constraint (its size, range or a policy)',
  schema: "the directory's schema does not allow the value here, or one it requires is missing",
  exists: 'the value is already present',
  missing: 'the value is not present',
  naming:
    'the value names the directory entry and the directory will not take it as a name (too long, or a character it does not allow)',
};

/** The port error stays attached for the log (http/middleware/errors.ts writes it); the client sees the detail only. */
function withCause(scimError: ScimError, cause: Error): ScimError {
  scimError.cause = cause;
  return scimError;
}
