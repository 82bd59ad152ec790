/**
 * The one place where port errors become SCIM errors (docs/architecture.md §Layers: services own this translation).
 */
import { DeadlineExceededError } from '../lib/deadline.ts';
import { MappingValueError } from '../mapping/convert.ts';
import {
  AlreadyExistsError,
  AssertionFailedError,
  ConstraintError,
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
    return ScimError.invalidValue(`the directory rejected ${subject}: ${error.message}`);
  }
  if (error instanceof TooManyResultsError)
    return ScimError.tooMany(
      'the query matches more resources than the directory returns; narrow the filter',
    );
  if (error instanceof DeadlineExceededError) {
    return ScimError.unavailable("the request's deadline passed; retry later", RETRY_AFTER_SECONDS);
  }
  if (error instanceof UnavailableError) {
    return ScimError.unavailable('the directory is unavailable; retry later', RETRY_AFTER_SECONDS);
  }
  if (error instanceof RefusedError)
    return ScimError.forbidden(`the directory refused the operation: ${error.message}`);
  return error;
}
