/**
 * The standard schemas as data: core User and Group (RFC 7643 §4.1, §4.2), Enterprise User
 * (§4.3), with the characteristics published in §8.7.1, and the common attributes (§3.1).
 * Where this file departs from the §8.7.1 listing it says so next to the attribute.
 */
import type { AttributeDefinition, SchemaDefinition } from './schema-types.ts';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** RFC 7643 §7 defaults: single-valued, optional, case-insensitive, readWrite, returned by default. */
function attr(
  name: string,
  type: AttributeDefinition['type'],
  description: string,
  more: Partial<AttributeDefinition> = {},
): AttributeDefinition {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...more,
  };
}

function complex(
  name: string,
  description: string,
  subAttributes: AttributeDefinition[],
  more: Partial<AttributeDefinition> = {},
): AttributeDefinition {
  return attr(name, 'complex', description, { subAttributes, ...more });
}

/**
 * The sub-attributes RFC 7643 §2.4 gives every multi-valued attribute: value, display, type,
 * primary. `value` may be typed differently (photos: reference, x509Certificates: binary).
 */
function multiValued(
  name: string,
  description: string,
  value: AttributeDefinition,
  canonicalTypes: string[] | undefined,
): AttributeDefinition {
  const type = attr('type', 'string', "A label indicating the value's function.");
  if (canonicalTypes) type.canonicalValues = canonicalTypes;
  return complex(
    name,
    description,
    [
      value,
      attr('display', 'string', 'A human-readable name, primarily used for display purposes.'),
      type,
      attr('primary', 'boolean', "Whether this is the preferred value; 'true' appears at most once."),
    ],
    { multiValued: true },
  );
}

// --- Common attributes (RFC 7643 §3.1): part of every resource, not of any schema. ----------

export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [
  attr('id', 'string', 'Unique, stable identifier of the resource, issued by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
  }),
  attr('externalId', 'string', 'Identifier of the resource as defined by the provisioning client.', {
    caseExact: true,
  }),
  complex(
    'meta',
    'Resource metadata, assigned by the service provider.',
    [
      attr('resourceType', 'string', 'The name of the resource type.', {
        caseExact: true,
        mutability: 'readOnly',
      }),
      attr('created', 'dateTime', 'When the resource was added to the service provider.', {
        mutability: 'readOnly',
      }),
      attr('lastModified', 'dateTime', 'When the resource was last modified.', { mutability: 'readOnly' }),
      attr('location', 'reference', 'The URI of the resource.', {
        caseExact: true,
        mutability: 'readOnly',
        referenceTypes: ['uri'],
      }),
      attr('version', 'string', 'The version (ETag) of the resource.', {
        caseExact: true,
        mutability: 'readOnly',
      }),
    ],
    { mutability: 'readOnly' },
  ),
];

// --- User (RFC 7643 §4.1, §8.7.1) ------------------------------------------------------------

export const USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: USER_SCHEMA,
  name: 'User',
  description: 'User Account',
  attributes: [
    attr('userName', 'string', 'Unique identifier for the User, used to authenticate. REQUIRED.', {
      required: true,
      uniqueness: 'server',
    }),
    complex('name', "The components of the User's real name.", [
      attr('formatted', 'string', 'The full name, formatted for display.'),
      attr('familyName', 'string', 'The family (last) name.'),
      attr('givenName', 'string', 'The given (first) name.'),
      attr('middleName', 'string', 'The middle name(s).'),
      attr('honorificPrefix', 'string', "The honorific prefix(es), e.g. 'Ms.'."),
      attr('honorificSuffix', 'string', "The honorific suffix(es), e.g. 'III'."),
    ]),
    attr('displayName', 'string', 'The name of the User, suitable for display to end-users.'),
    attr('nickName', 'string', 'The casual way to address the User.'),
    attr('profileUrl', 'reference', "A URL of the User's online profile.", { referenceTypes: ['external'] }),
    attr('title', 'string', "The User's title, such as 'Vice President'."),
    attr('userType', 'string', 'The relationship between the organization and the User.'),
    attr('preferredLanguage', 'string', "The User's preferred written or spoken language."),
    attr('locale', 'string', "The User's default location for localisation."),
    attr('timezone', 'string', "The User's time zone in the IANA ('Olson') database format."),
    attr('active', 'boolean', "The User's administrative status."),
    // writeOnly + returned never (§8.7.1): accepted on input, never echoed back.
    attr('password', 'string', "The User's cleartext password, to set or reset it.", {
      mutability: 'writeOnly',
      returned: 'never',
    }),
    multiValued('emails', 'Email addresses for the User.', attr('value', 'string', 'An email address.'), [
      'work',
      'home',
      'other',
    ]),
    multiValued('phoneNumbers', 'Phone numbers for the User.', attr('value', 'string', 'A phone number.'), [
      'work',
      'home',
      'mobile',
      'fax',
      'pager',
      'other',
    ]),
    multiValued(
      'ims',
      'Instant messaging addresses for the User.',
      attr('value', 'string', 'An instant messaging address.'),
      ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'],
    ),
    multiValued(
      'photos',
      'URLs of photos of the User.',
      attr('value', 'reference', 'URL of a photo of the User.', { referenceTypes: ['external'] }),
      ['photo', 'thumbnail'],
    ),
    // §8.7.1 lists no `primary` for addresses, but §4.1.2 and §2.4 give every multi-valued
    // attribute one and clients (Okta) send it: it is included.
    complex(
      'addresses',
      'Physical mailing addresses for the User.',
      [
        attr('formatted', 'string', 'The full mailing address, formatted for display.'),
        attr('streetAddress', 'string', 'The full street address component.'),
        attr('locality', 'string', 'The city or locality component.'),
        attr('region', 'string', 'The state or region component.'),
        attr('postalCode', 'string', 'The zip code or postal code component.'),
        attr('country', 'string', 'The country name component (ISO 3166-1 alpha-2).'),
        attr('type', 'string', "A label indicating the address's function.", {
          canonicalValues: ['work', 'home', 'other'],
        }),
        attr('primary', 'boolean', "Whether this is the preferred address; 'true' appears at most once."),
      ],
      { multiValued: true },
    ),
    // readOnly (§4.1.2): membership changes go through the Group resource.
    complex(
      'groups',
      'The groups the User belongs to, directly or indirectly.',
      [
        attr('value', 'string', "The identifier of the User's group.", { mutability: 'readOnly' }),
        attr('$ref', 'reference', "The URI of the User's group.", {
          mutability: 'readOnly',
          referenceTypes: ['User', 'Group'],
        }),
        attr('display', 'string', 'A human-readable name of the group.', { mutability: 'readOnly' }),
        attr('type', 'string', "'direct' or 'indirect' membership.", {
          mutability: 'readOnly',
          canonicalValues: ['direct', 'indirect'],
        }),
      ],
      { multiValued: true, mutability: 'readOnly' },
    ),
    multiValued(
      'entitlements',
      'Entitlements of the User.',
      attr('value', 'string', 'The value of an entitlement.'),
      undefined,
    ),
    multiValued('roles', 'Roles of the User.', attr('value', 'string', 'The value of a role.'), undefined),
    multiValued(
      'x509Certificates',
      'Certificates issued to the User.',
      attr('value', 'binary', 'A DER-encoded X.509 certificate (base64).'),
      undefined,
    ),
  ],
};

// --- Group (RFC 7643 §4.2, §8.7.1) -----------------------------------------------------------

export const GROUP_SCHEMA_DEFINITION: SchemaDefinition = {
  id: GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    // §4.2 calls displayName REQUIRED but the §8.7.1 listing says required: false; §8.7.1 is
    // followed here, and a mapping that needs it (the RDN, say) marks it required itself.
    attr('displayName', 'string', 'A human-readable name for the Group.'),
    complex(
      'members',
      'A list of members of the Group.',
      [
        attr('value', 'string', 'Identifier of the member of this Group.', { mutability: 'immutable' }),
        attr('$ref', 'reference', 'The URI of the member resource.', {
          mutability: 'immutable',
          referenceTypes: ['User', 'Group'],
        }),
        attr('type', 'string', "The type of the member, 'User' or 'Group'.", {
          mutability: 'immutable',
          canonicalValues: ['User', 'Group'],
        }),
        // Not in §8.7.1 but in §4.2's prose and sent by Entra and Okta: kept, immutable like the others.
        attr('display', 'string', 'A human-readable name of the member.', { mutability: 'immutable' }),
      ],
      { multiValued: true },
    ),
  ],
};

// --- Enterprise User extension (RFC 7643 §4.3, §8.7.1) ------------------------------------------

export const ENTERPRISE_USER_SCHEMA_DEFINITION: SchemaDefinition = {
  id: ENTERPRISE_USER_SCHEMA,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', 'string', 'Identifier assigned to a person by the organization.'),
    attr('costCenter', 'string', 'The name of a cost center.'),
    attr('organization', 'string', 'The name of an organization.'),
    attr('division', 'string', 'The name of a division.'),
    attr('department', 'string', 'The name of a department.'),
    complex('manager', "The User's manager.", [
      attr('value', 'string', "The id of the manager's User resource."),
      attr('$ref', 'reference', "The URI of the manager's User resource.", { referenceTypes: ['User'] }),
      attr('displayName', 'string', "The manager's displayName.", { mutability: 'readOnly' }),
    ]),
  ],
};

export const STANDARD_SCHEMA_DEFINITIONS: readonly SchemaDefinition[] = [
  USER_SCHEMA_DEFINITION,
  GROUP_SCHEMA_DEFINITION,
  ENTERPRISE_USER_SCHEMA_DEFINITION,
];

// --- Look-ups -----------------------------------------------------------------------------------

/** An attribute of a schema (or of a list of definitions) by name; names are case-insensitive (RFC 7643 §2.1). */
export function findAttribute(
  schema: SchemaDefinition | readonly AttributeDefinition[],
  name: string,
): AttributeDefinition | undefined {
  const list = Array.isArray(schema) ? schema : (schema as SchemaDefinition).attributes;
  const lower = name.toLowerCase();
  return list.find((a: AttributeDefinition) => a.name.toLowerCase() === lower);
}

/** A sub-attribute of a complex attribute by name, case-insensitively. */
export function findSubAttribute(
  attribute: AttributeDefinition,
  name: string,
): AttributeDefinition | undefined {
  return attribute.subAttributes ? findAttribute(attribute.subAttributes, name) : undefined;
}

/** Schema URIs compare case-insensitively, like the attribute names they qualify (RFC 7643 §2.1, RFC 7644 §3.10). */
export function sameUrn(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Whether `urn` names the schema `id`, also in the malformed spelling Microsoft Entra ID sends for
 * the enterprise extension, without the last colon (`...:enterprise:2.0User`).
 */
export function urnMatches(urn: string, id: string): boolean {
  if (sameUrn(urn, id)) return true;
  const last = id.lastIndexOf(':');
  return last !== -1 && sameUrn(urn, id.slice(0, last) + id.slice(last + 1));
}
