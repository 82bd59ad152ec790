/**
 * Errors the adapters raise through the ports. Services translate these into SCIM errors;
 * nothing outside src/services decides how a port failure looks to a client.
 */
export class PortError extends Error {
  override readonly name: string = 'PortError';
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** The entry (or a referenced entry) does not exist. */
export class NotFoundError extends PortError {
  override readonly name = 'NotFoundError';
}

/** The entry already exists, or a value would break a uniqueness rule. */
export class AlreadyExistsError extends PortError {
  override readonly name = 'AlreadyExistsError';
}

/** An RFC 4528 assertion did not hold: the entry changed since the client read it. */
export class AssertionFailedError extends PortError {
  override readonly name = 'AssertionFailedError';
}

/** The directory refused the values: schema violation, bad syntax, constraint. The client's fault. */
export class ConstraintError extends PortError {
  override readonly name = 'ConstraintError';
  /** The LDAP attribute the directory complained about, when it said. */
  readonly attribute: string | undefined;
  constructor(message: string, attribute?: string, cause?: unknown) {
    super(message, cause);
    this.attribute = attribute;
  }
}

/** The directory or Redis cannot be reached or is busy; the client may retry later. */
export class UnavailableError extends PortError {
  override readonly name = 'UnavailableError';
}

/** The directory understood the request but will not perform it (access rights, unsupported control). */
export class RefusedError extends PortError {
  override readonly name = 'RefusedError';
}

/** A search matched more entries than the directory will return. */
export class TooManyResultsError extends PortError {
  override readonly name = 'TooManyResultsError';
}
