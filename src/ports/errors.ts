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

/**
 * What kind of value the directory refused, so services can say it in SCIM terms without
 * repeating the directory's own words: a value's form (syntax), a limit (constraint), the schema
 * (attribute or class not allowed / required one missing), a value already there or not there,
 * or the entry's name (RDN).
 */
export type ConstraintKind = 'syntax' | 'constraint' | 'schema' | 'exists' | 'missing' | 'naming';

/** The directory refused the values: schema violation, bad syntax, constraint. The client's fault. */
export class ConstraintError extends PortError {
  override readonly name = 'ConstraintError';
  /** The LDAP attribute the directory complained about, when it said. */
  readonly attribute: string | undefined;
  readonly kind: ConstraintKind | undefined;
  constructor(message: string, attribute?: string, cause?: unknown, kind?: ConstraintKind) {
    super(message, cause);
    this.attribute = attribute;
    this.kind = kind;
  }
}

/** The directory or Redis cannot be reached or is busy; the client may retry later. */
export class UnavailableError extends PortError {
  override readonly name = 'UnavailableError';
}

/** The directory understood the request but will not perform it (access rights, unsupported control). */
export class RefusedError extends PortError {
  override readonly name = 'RefusedError';
  /** What the client may be told (no DN, no directory text); absent: a generic refusal. */
  readonly clientDetail: string | undefined;
  constructor(message: string, cause?: unknown, clientDetail?: string) {
    super(message, cause);
    this.clientDetail = clientDetail;
  }
}

/** A search matched more entries than the directory will return. */
export class TooManyResultsError extends PortError {
  override readonly name = 'TooManyResultsError';
}
