/**
 * DirFilter -> ldapts Filter objects. The filter travels BER-encoded (RFC 4511 §4.5.1.7): every
 * assertion value is an OCTET STRING of its own, so no value can change the filter's structure and
 * nothing here builds or escapes filter strings. (RFC 4515 escaping only matters for the string form,
 * which ldapts' toString() produces for logs.)
 */
import {
  AndFilter,
  EqualityFilter,
  ExtensibleFilter,
  type Filter,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  PresenceFilter,
  SubstringFilter,
} from 'ldapts';
import type { DirFilter } from '../ports/directory.ts';

/**
 * An attribute description (RFC 4512 §2.5): a descriptor or numeric OID, then options
 * (`member;range=0-1499`, `userCertificate;binary`). Anything else is a mapping bug, not user input.
 */
const ATTRIBUTE_DESCRIPTION = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9-=]+)*$/;
/** A matching rule: descriptor or numeric OID (RFC 4511 §4.5.1.7.7 matchingRule). */
const MATCHING_RULE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/;

function checkedAttribute(attribute: string): string {
  if (!ATTRIBUTE_DESCRIPTION.test(attribute)) {
    throw new Error(`not an LDAP attribute description: ${JSON.stringify(attribute)}`);
  }
  return attribute;
}

/** `(objectClass=*)`: every entry has an objectClass (RFC 4512 §2.4.1), so this is "true". */
export function alwaysTrue(): Filter {
  return new PresenceFilter({ attribute: 'objectClass' });
}

export function toLdapFilter(filter: DirFilter): Filter {
  switch (filter.type) {
    case 'and':
      // An empty AND is "true" (RFC 4526), but not every server accepts it: say it portably.
      return filter.filters.length === 0
        ? alwaysTrue()
        : new AndFilter({ filters: filter.filters.map(toLdapFilter) });
    case 'or':
      // An empty OR is "false" (RFC 4526).
      return filter.filters.length === 0
        ? new NotFilter({ filter: alwaysTrue() })
        : new OrFilter({ filters: filter.filters.map(toLdapFilter) });
    case 'not':
      return new NotFilter({ filter: toLdapFilter(filter.filter) });
    case 'equal':
      // A Buffer goes out byte for byte (objectGUID); ldapts writes it as a raw OCTET STRING.
      return new EqualityFilter({ attribute: checkedAttribute(filter.attribute), value: filter.value });
    case 'substring':
      return substringFilter(filter.attribute, filter.initial, filter.any, filter.final);
    case 'greaterOrEqual':
      return new GreaterThanEqualsFilter({
        attribute: checkedAttribute(filter.attribute),
        value: filter.value,
      });
    case 'lessOrEqual':
      return new LessThanEqualsFilter({ attribute: checkedAttribute(filter.attribute), value: filter.value });
    case 'present':
      return new PresenceFilter({ attribute: checkedAttribute(filter.attribute) });
    case 'extensible':
      if (!MATCHING_RULE.test(filter.rule))
        throw new Error(`not a matching rule: ${JSON.stringify(filter.rule)}`);
      return new ExtensibleFilter({
        matchType: checkedAttribute(filter.attribute),
        rule: filter.rule,
        value: filter.value,
      });
    case 'true':
      return alwaysTrue();
    case 'false':
      return new NotFilter({ filter: alwaysTrue() });
  }
}

/**
 * RFC 4511 §4.5.1.7.2: substring components must not be empty. Empty parts are dropped; with no
 * part left the assertion is "has a value", i.e. presence.
 */
function substringFilter(attribute: string, initial?: string, any: string[] = [], final?: string): Filter {
  const checked = checkedAttribute(attribute);
  const anyParts = any.filter((part) => part.length > 0);
  if (!initial && anyParts.length === 0 && !final) return new PresenceFilter({ attribute: checked });
  return new SubstringFilter({
    attribute: checked,
    ...(initial ? { initial } : {}),
    any: anyParts,
    ...(final ? { final } : {}),
  });
}
