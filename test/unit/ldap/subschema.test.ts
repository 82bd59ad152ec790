/**
 * RFC 4512 §4.1 attribute type and object class descriptions -> names and OIDs, as OpenLDAP,
 * 389-DS and Active Directory write them in their subschema subentries.
 */
import { describe, expect, it } from 'vitest';
import { namesOfDescription, subschemaDnOf, subschemaFromEntry } from '../../../src/ldap/subschema.ts';

describe('namesOfDescription', () => {
  it.each([
    [
      'one NAME',
      "( 0.9.2342.19200300.100.1.3 NAME 'mail' EQUALITY caseIgnoreIA5Match )",
      ['0.9.2342.19200300.100.1.3', 'mail'],
    ],
    [
      'a NAME list (aliases)',
      "( 2.5.4.4 NAME ( 'sn' 'surname' ) DESC 'RFC2256: last (family) name(s) for which the entity is known by' SUP name )",
      ['2.5.4.4', 'sn', 'surname'],
    ],
    ['no NAME at all', '( 1.2.3.4 SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )', ['1.2.3.4']],
    [
      'Active Directory quotes the SYNTAX OID',
      "( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' SINGLE-VALUE )",
      ['1.2.840.113556.1.4.221', 'sAMAccountName'],
    ],
    [
      'a DESC that mentions NAME is not a NAME',
      "( 1.2.3.5 NAME 'x' DESC 'NAME ( \\27y\\27 ) is not it' )",
      ['1.2.3.5', 'x'],
    ],
    [
      'an attribute called name in MUST / MAY is not a NAME',
      "( 2.5.6.99 NAME 'thing' SUP top STRUCTURAL MUST name MAY ( description $ name ) )",
      ['2.5.6.99', 'thing'],
    ],
    [
      'flags, USAGE and X- extensions with lists',
      "( 1.3.6.1.1.16.4 NAME 'entryUUID' EQUALITY UUIDMatch SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation X-ORIGIN ( 'RFC 4530' 'user defined' ) )",
      ['1.3.6.1.1.16.4', 'entryUUID'],
    ],
    [
      '389-DS: a descriptive OID',
      "( nsAdminDomainName-oid NAME 'nsAdminDomainName' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 X-ORIGIN 'Netscape' )",
      ['nsAdminDomainName-oid', 'nsAdminDomainName'],
    ],
  ])('%s', (_, description, names) => {
    expect(namesOfDescription(description)).toEqual(names);
  });

  it.each([
    ['no parentheses', "2.5.4.3 NAME 'cn'"],
    ['unterminated quote', "( 2.5.4.3 NAME 'cn )"],
    ['unclosed description', "( 2.5.4.3 NAME 'cn'"],
    ['NAME without a value', '( 2.5.4.3 NAME )'],
  ])('%s does not parse', (_, description) => {
    expect(namesOfDescription(description)).toBeUndefined();
  });
});

describe('subschemaFromEntry', () => {
  it('collects every name of both lists, skipping descriptions that do not parse', () => {
    const subschema = subschemaFromEntry({
      dn: 'cn=Subschema',
      attributes: {
        attributetypes: ["( 2.5.4.3 NAME ( 'cn' 'commonName' ) )", 'garbage', "( 2.5.4.4 NAME 'sn' )"],
        objectclasses: ["( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )"],
      },
    });
    expect(subschema).toEqual({
      source: 'cn=Subschema',
      attributeTypes: ['2.5.4.3', 'cn', 'commonName', '2.5.4.4', 'sn'],
      objectClasses: ['2.5.6.0', 'top'],
    });
  });

  it('is undefined when access controls hid the attributes (checking would refuse everything)', () => {
    expect(subschemaFromEntry({ dn: 'cn=Subschema', attributes: {} })).toBeUndefined();
    expect(
      subschemaFromEntry({ dn: 'cn=Subschema', attributes: { attributetypes: ["( 2.5.4.3 NAME 'cn' )"] } }),
    ).toBeUndefined();
  });
});

describe('subschemaDnOf', () => {
  it('takes the rootDSE subschemaSubentry, cn=Subschema when there is none', () => {
    const ad = 'CN=Aggregate,CN=Schema,CN=Configuration,DC=example,DC=com';
    expect(subschemaDnOf({ dn: '', attributes: { subschemasubentry: [ad] } })).toBe(ad);
    expect(subschemaDnOf({ dn: '', attributes: {} })).toBe('cn=Subschema');
    expect(subschemaDnOf(undefined)).toBe('cn=Subschema');
  });
});
