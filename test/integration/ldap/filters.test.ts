/**
 * DirFilter -> LDAP filter against a real slapd. Values travel as BER OCTET STRINGs, so no value
 * can widen a search: the corpus below must match nothing, or exactly the entry that holds it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSlapd } from '../../../src/localdev/slapd.ts';
import type { Directory, DirFilter } from '../../../src/ports/directory.ts';
import { directoryFor, ldapBinariesMissing, PEOPLE, SAMPLE_UIDS, startSeededSlapd } from './helpers.ts';

const INJECTION_CORPUS = [
  '*',
  '*)(uid=*',
  '*)(|(uid=*',
  'alice)(uid=*',
  '\\',
  '\\2a',
  '\\*',
  '\u0000',
  'alice\u0000',
  '(',
  ')',
  '()',
  '|',
  '&',
  '!',
  '(objectClass=*)',
  'uid=alice,ou=People,dc=example,dc=com',
  'Zoë 世界 🙂',
];

describe.skipIf(ldapBinariesMissing)('LDAP directory: filters', () => {
  let slapd: RunningSlapd;
  let directory: Directory;
  /** Entries whose cn is literally one of the corpus strings (those the schema accepts). */
  const storedCn = ['*)(uid=*', 'Zoë 世界 🙂', '\\2a', '(objectClass=*)'];

  beforeAll(async () => {
    slapd = await startSeededSlapd();
    directory = directoryFor(slapd);
    for (const [index, cn] of storedCn.entries()) {
      await directory.add(`uid=odd${index},${PEOPLE}`, {
        objectClass: ['inetOrgPerson'],
        uid: [`odd${index}`],
        cn: [cn],
        sn: ['Odd'],
      });
    }
  });

  afterAll(async () => {
    await directory?.close();
    await slapd?.stop();
  });

  async function uidsMatching(filter: DirFilter): Promise<string[]> {
    const { entries } = await directory.search({ base: PEOPLE, scope: 'one', filter, attributes: ['uid'] });
    return entries.map((entry) => String(entry.attributes.uid?.[0])).sort();
  }

  it('has users to find (so an empty result below means "no match", not "no data")', async () => {
    expect(await uidsMatching({ type: 'present', attribute: 'uid' })).toEqual(
      [...SAMPLE_UIDS, 'odd0', 'odd1', 'odd2', 'odd3'].sort(),
    );
  });

  // A lone space is not in the substring corpus: RFC 4518 §2.6.1 makes it insignificant, so a
  // substring of " " legitimately matches every value. Equality still must not match.
  it.each([...INJECTION_CORPUS, ' '])('equality on uid with %j matches nothing', async (value) => {
    expect(await uidsMatching({ type: 'equal', attribute: 'uid', value })).toEqual([]);
  });

  it.each(INJECTION_CORPUS)('substring "any" on uid with %j matches nothing', async (value) => {
    expect(await uidsMatching({ type: 'substring', attribute: 'uid', any: [value] })).toEqual([]);
  });

  it.each(INJECTION_CORPUS)('substring initial/final on uid with %j matches nothing', async (value) => {
    expect(await uidsMatching({ type: 'substring', attribute: 'uid', initial: value, any: [] })).toEqual([]);
    expect(await uidsMatching({ type: 'substring', attribute: 'uid', any: [], final: value })).toEqual([]);
  });

  it.each(storedCn.map((cn, index) => [cn, `odd${index}`]))(
    'equality on cn %j finds exactly %s',
    async (cn, uid) => {
      expect(await uidsMatching({ type: 'equal', attribute: 'cn', value: cn })).toEqual([uid]);
    },
  );

  it('matches the metacharacters literally inside substrings', async () => {
    expect(await uidsMatching({ type: 'substring', attribute: 'cn', initial: '*)(', any: [] })).toEqual([
      'odd0',
    ]);
    expect(await uidsMatching({ type: 'substring', attribute: 'cn', any: ['世界'] })).toEqual(['odd1']);
    expect(await uidsMatching({ type: 'substring', attribute: 'cn', any: [], final: '=*)' })).toEqual([
      'odd3',
    ]);
  });

  it('sends a Buffer value byte for byte', async () => {
    expect(await uidsMatching({ type: 'equal', attribute: 'uid', value: Buffer.from('alice') })).toEqual([
      'alice',
    ]);
    expect(await uidsMatching({ type: 'equal', attribute: 'uid', value: Buffer.from('*') })).toEqual([]);
    expect(
      await uidsMatching({ type: 'equal', attribute: 'uid', value: Buffer.from([0x2a, 0x29, 0x28]) }),
    ).toEqual([]);
  });

  it('combines and / or / not, ordering and presence', async () => {
    expect(
      await uidsMatching({
        type: 'and',
        filters: [
          { type: 'equal', attribute: 'objectClass', value: 'scimResource' },
          { type: 'not', filter: { type: 'equal', attribute: 'scimActive', value: 'FALSE' } },
          {
            type: 'or',
            filters: [
              { type: 'substring', attribute: 'mail', any: [], final: '@example.com', initial: 'a' },
              { type: 'equal', attribute: 'employeeNumber', value: '1004' },
              { type: 'equal', attribute: 'employeeNumber', value: '1005' },
            ],
          },
        ],
      }),
    ).toEqual(['alice', 'dave']);
    // scimExternalId has ORDERING caseExactOrderingMatch; only alice has one ("ext-alice-0001").
    expect(
      await uidsMatching({ type: 'greaterOrEqual', attribute: 'scimExternalId', value: 'ext-a' }),
    ).toEqual(['alice']);
    expect(
      await uidsMatching({ type: 'greaterOrEqual', attribute: 'scimExternalId', value: 'ext-b' }),
    ).toEqual([]);
    expect(await uidsMatching({ type: 'lessOrEqual', attribute: 'scimExternalId', value: 'ext-b' })).toEqual([
      'alice',
    ]);
    expect(await uidsMatching({ type: 'lessOrEqual', attribute: 'scimExternalId', value: 'ext-a' })).toEqual(
      [],
    );
    expect(await uidsMatching({ type: 'present', attribute: 'scimExternalId' })).toEqual(['alice']);
  });

  it('matches scimExternalId case-exactly (caseExactMatch in scim-bridge.schema)', async () => {
    expect(
      await uidsMatching({ type: 'equal', attribute: 'scimExternalId', value: 'ext-alice-0001' }),
    ).toEqual(['alice']);
    expect(
      await uidsMatching({ type: 'equal', attribute: 'scimExternalId', value: 'EXT-ALICE-0001' }),
    ).toEqual([]);
    expect(await uidsMatching({ type: 'equal', attribute: 'uid', value: 'ALICE' })).toEqual(['alice']);
  });

  it('supports extensible match with an explicit rule', async () => {
    expect(
      await uidsMatching({ type: 'extensible', attribute: 'uid', rule: 'caseExactMatch', value: 'bob' }),
    ).toEqual(['bob']);
    expect(
      await uidsMatching({ type: 'extensible', attribute: 'uid', rule: 'caseExactMatch', value: 'BOB' }),
    ).toEqual([]);
  });

  it('treats true, false and empty and/or as the constants they are', async () => {
    const all = await uidsMatching({ type: 'true' });
    expect(all).toContain('alice');
    expect(await uidsMatching({ type: 'and', filters: [] })).toEqual(all);
    expect(await uidsMatching({ type: 'false' })).toEqual([]);
    expect(await uidsMatching({ type: 'or', filters: [] })).toEqual([]);
  });

  it('turns a substring without parts into presence (empty components are not valid LDAP)', async () => {
    expect(
      await uidsMatching({ type: 'substring', attribute: 'scimExternalId', initial: '', any: [''] }),
    ).toEqual(['alice']);
  });

  it('rejects an attribute name that is not an attribute description', async () => {
    await expect(uidsMatching({ type: 'equal', attribute: 'uid)(uid=*', value: 'x' })).rejects.toThrow(
      /not an LDAP attribute description/,
    );
    await expect(uidsMatching({ type: 'present', attribute: '' })).rejects.toThrow(/not an LDAP attribute/);
  });
});
