/**
 * Writes through the LDAP adapter against a real slapd: round trips, renames, error mapping,
 * RFC 4528 assertions and RFC 4527 post-read.
 */
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSlapd } from '../../../src/localdev/slapd.ts';
import type { Directory } from '../../../src/ports/directory.ts';
import {
  AlreadyExistsError,
  AssertionFailedError,
  ConstraintError,
  NotFoundError,
  RefusedError,
  UnavailableError,
} from '../../../src/ports/errors.ts';
import {
  directoryFor,
  GROUPS,
  ldapBinariesMissing,
  PEOPLE,
  rawValues,
  startSeededSlapd,
  text,
} from './helpers.ts';

describe.skipIf(ldapBinariesMissing)('LDAP directory: writes', () => {
  let slapd: RunningSlapd;
  let directory: Directory;

  beforeAll(async () => {
    slapd = await startSeededSlapd();
    directory = directoryFor(slapd);
  });

  afterAll(async () => {
    await directory?.close();
    await slapd?.stop();
  });

  const person = (uid: string, extra: Record<string, string[]> = {}) => ({
    objectClass: ['inetOrgPerson', 'scimResource'],
    uid: [uid],
    cn: [`${uid} Test`],
    sn: ['Test'],
    ...extra,
  });

  it('reports the capabilities slapd advertises in its rootDSE', async () => {
    expect(await directory.capabilities()).toEqual({
      vendor: 'openldap',
      pagedResults: true,
      serverSideSort: true,
      virtualListView: true,
      assertion: true,
      postRead: true,
      maxRdnBytes: 245,
    });
    await expect(directory.ping()).resolves.toBeUndefined();
  });

  it('adds, reads, modifies and deletes an entry', async () => {
    const dn = `uid=frank,${PEOPLE}`;
    const added = await directory.add(
      dn,
      person('frank', { mail: ['frank@example.com'], scimActive: ['TRUE'] }),
      {
        returnAttributes: ['uid', 'mail', 'entryUUID', 'objectClass'],
      },
    );
    expect(added?.dn).toBe(dn);
    expect(added?.attributes.uid).toEqual(['frank']);
    expect(added?.attributes.objectclass).toEqual(['inetOrgPerson', 'scimResource']);
    expect(text(added, 'entryUUID')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    // Independent check with a raw client.
    expect(await rawValues(slapd, dn, 'mail')).toEqual(['frank@example.com']);

    await directory.modify(dn, [
      { operation: 'replace', attribute: 'mail', values: ['f@example.com', 'frank.test@example.com'] },
      { operation: 'add', attribute: 'title', values: ['Tester'] },
      { operation: 'replace', attribute: 'scimActive', values: ['FALSE'] },
    ]);
    const read = await directory.read(dn, ['mail', 'title', 'scimActive', 'telephoneNumber']);
    expect(read?.attributes.mail?.slice().sort()).toEqual(['f@example.com', 'frank.test@example.com']);
    expect(read?.attributes.title).toEqual(['Tester']);
    expect(read?.attributes.scimactive).toEqual(['FALSE']);
    // Requested but absent: not in the entry.
    expect(read?.attributes).not.toHaveProperty('telephonenumber');

    await directory.modify(dn, [{ operation: 'delete', attribute: 'title', values: [] }]);
    expect(await rawValues(slapd, dn, 'title')).toEqual([]);

    await directory.delete(dn);
    expect(await directory.read(dn, ['uid'])).toBeUndefined();
  });

  it('returns no attributes for an empty attribute list ("1.1")', async () => {
    const entry = await directory.read(`uid=alice,${PEOPLE}`, []);
    expect(entry).toEqual({ dn: `uid=alice,${PEOPLE}`, attributes: {} });
  });

  it('round-trips binary values byte for byte', async () => {
    const dn = `uid=photo,${PEOPLE}`;
    // Invalid UTF-8 (0xff, lone 0xc3) next to bytes that happen to be valid UTF-8.
    const bytes = Buffer.from([0xff, 0xd8, 0x00, 0x41, 0xc3, 0x28, 0xe2, 0x82, 0xac, 0x0a]);
    const utf8Looking = Buffer.from('plain text', 'utf8');
    await directory.add(dn, { ...person('photo'), jpegPhoto: [bytes, utf8Looking] });
    const entry = await directory.read(dn, ['jpegPhoto'], ['JPEGPHOTO']);
    const values = entry?.attributes.jpegphoto ?? [];
    expect(values.every((value) => Buffer.isBuffer(value))).toBe(true);
    expect(values.map((value) => Buffer.from(value).toString('hex')).sort()).toEqual(
      [bytes.toString('hex'), utf8Looking.toString('hex')].sort(),
    );
  });

  it('keeps entryUUID across a rename and a move, and the group member value follows it (memberof-refint)', async () => {
    await directory.add(`ou=Former,dc=example,dc=com`, {
      objectClass: ['organizationalUnit'],
      ou: ['Former'],
    });
    const dn = `uid=gina,${PEOPLE}`;
    const added = await directory.add(dn, person('gina'), { returnAttributes: ['entryUUID'] });
    const uuid = text(added, 'entryUUID');
    expect(uuid).toBeDefined();
    const groupDn = `cn=movers,${GROUPS}`;
    await directory.add(groupDn, { objectClass: ['groupOfNames'], cn: ['movers'], member: [dn] });

    const renamed = `uid=gina.new,${PEOPLE}`;
    await directory.rename(dn, renamed);
    expect(await directory.read(dn, ['uid'])).toBeUndefined();
    const afterRename = await directory.read(renamed, ['uid', 'entryUUID']);
    expect(text(afterRename, 'entryUUID')).toBe(uuid);
    // deleteOldRdn: the old RDN value is gone.
    expect(afterRename?.attributes.uid).toEqual(['gina.new']);

    const moved = `uid=gina.new,ou=Former,dc=example,dc=com`;
    await directory.rename(renamed, moved);
    expect(text(await directory.read(moved, ['entryUUID']), 'entryUUID')).toBe(uuid);
    expect((await rawValues(slapd, groupDn, 'member')).map((member) => member.toLowerCase())).toEqual([
      moved.toLowerCase(),
    ]);
  });

  it('renames to an RDN with escaped characters', async () => {
    const dn = `cn=plain,${GROUPS}`;
    await directory.add(dn, {
      objectClass: ['groupOfNames'],
      cn: ['plain'],
      member: [`uid=alice,${PEOPLE}`],
    });
    // cn value: `Sales, EMEA\` (a comma and a trailing backslash, RFC 4514 §2.4 escapes).
    const newDn = `cn=Sales\\, EMEA\\\\,${GROUPS}`;
    await directory.rename(dn, newDn);
    expect(await rawValues(slapd, newDn, 'cn')).toEqual(['Sales, EMEA\\']);
  });

  it('maps LDAP result codes to port errors', async () => {
    // 68 entryAlreadyExists
    await expect(directory.add(`uid=alice,${PEOPLE}`, person('alice'))).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    // 65 objectClassViolation, naming the missing attribute
    const missingSn = directory.add(`uid=nosn,${PEOPLE}`, {
      objectClass: ['inetOrgPerson'],
      uid: ['nosn'],
      cn: ['No Sn'],
    });
    await expect(missingSn).rejects.toBeInstanceOf(ConstraintError);
    await expect(missingSn).rejects.toMatchObject({ attribute: 'sn' });
    // 21 invalidAttributeSyntax
    await expect(
      directory.add(`uid=badbool,${PEOPLE}`, person('badbool', { scimActive: ['maybe'] })),
    ).rejects.toMatchObject({ name: 'ConstraintError', attribute: 'scimactive' });
    // 19 constraintViolation: scimExternalId is SINGLE-VALUE
    await expect(
      directory.add(`uid=twoext,${PEOPLE}`, person('twoext', { scimExternalId: ['a', 'b'] })),
    ).rejects.toMatchObject({ name: 'ConstraintError', attribute: 'scimexternalid' });
    // 17 undefinedAttributeType
    await expect(
      directory.add(`uid=undef,${PEOPLE}`, person('undef', { shoeSize: ['44'] })),
    ).rejects.toMatchObject({
      name: 'ConstraintError',
      attribute: 'shoesize',
    });
    // 32 noSuchObject
    await expect(
      directory.modify(`uid=ghost,${PEOPLE}`, [{ operation: 'replace', attribute: 'sn', values: ['x'] }]),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(directory.delete(`uid=ghost,${PEOPLE}`)).rejects.toBeInstanceOf(NotFoundError);
    await expect(directory.rename(`uid=ghost,${PEOPLE}`, `uid=ghost2,${PEOPLE}`)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    // 20 attributeOrValueExists
    await expect(
      directory.modify(`uid=alice,${PEOPLE}`, [
        { operation: 'add', attribute: 'mail', values: ['alice@example.com'] },
      ]),
    ).rejects.toMatchObject({ name: 'ConstraintError', attribute: 'mail' });
  });

  it('sends all changes in one modify: one bad change leaves the entry untouched', async () => {
    const dn = `uid=bob,${PEOPLE}`;
    const titleBefore = await rawValues(slapd, dn, 'title');
    await expect(
      directory.modify(dn, [
        { operation: 'replace', attribute: 'title', values: ['Changed'] },
        { operation: 'add', attribute: 'mail', values: ['bob@example.com'] },
      ]),
    ).rejects.toBeInstanceOf(ConstraintError);
    expect(await rawValues(slapd, dn, 'title')).toEqual(titleBefore);
  });

  it('maps result 80 on an add or rename with an over-long RDN to a naming ConstraintError, not an outage', async () => {
    const long = 'l'.repeat(300);
    const add = directory.add(`uid=${long},${PEOPLE}`, person(long));
    await expect(add).rejects.toBeInstanceOf(ConstraintError);
    await expect(add).rejects.toMatchObject({ kind: 'naming', attribute: 'uid' });
    const rename = directory.rename(`uid=bob,${PEOPLE}`, `uid=${long},${PEOPLE}`);
    await expect(rename).rejects.toMatchObject({ kind: 'naming', attribute: 'uid' });
    // 245 bytes is the limit the directory advertises (ldap/root-dse.ts): exactly that is stored.
    const atLimit = 'm'.repeat(245 - 'uid='.length);
    await expect(directory.add(`uid=${atLimit},${PEOPLE}`, person(atLimit))).resolves.toBeUndefined();
  });

  it('maps insufficientAccessRights (50) to RefusedError', async () => {
    await directory.modify(`uid=dave,${PEOPLE}`, [
      { operation: 'replace', attribute: 'userPassword', values: ['dave-secret'] },
    ]);
    const asDave = directoryFor(slapd, {
      bindDn: `uid=dave,${PEOPLE}`,
      bindPassword: 'dave-secret',
      poolSize: 1,
    });
    try {
      await expect(
        asDave.modify(`uid=carol,${PEOPLE}`, [{ operation: 'replace', attribute: 'title', values: ['x'] }]),
      ).rejects.toBeInstanceOf(RefusedError);
    } finally {
      await asDave.close();
    }
  });

  it('lets the server hash a cleartext userPassword (ppolicy_hash_cleartext)', async () => {
    const dn = `uid=hank,${PEOPLE}`;
    await directory.add(dn, person('hank', { userPassword: ['hank-secret'] }));
    const [stored] = await rawValues(slapd, dn, 'userPassword');
    expect(stored).toMatch(/^\{SSHA\}/);
    const client = new Client({ url: slapd.url });
    try {
      await expect(client.bind(dn, 'hank-secret')).resolves.toBeUndefined();
    } finally {
      await client.unbind();
    }
  });

  it('reports a wrong service-account password as UnavailableError, not a generic error', async () => {
    const wrong = directoryFor(slapd, { bindPassword: 'not-the-password', poolSize: 1 });
    try {
      await expect(wrong.read(`uid=alice,${PEOPLE}`, ['uid'])).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await wrong.close();
    }
  });

  it('keeps memberOf in step with groupOfNames members (memberof overlay)', async () => {
    const groupDn = `cn=auditors,${GROUPS}`;
    await directory.add(groupDn, {
      objectClass: ['groupOfNames', 'posixGroup'],
      cn: ['auditors'],
      gidNumber: ['7001'],
      member: [`uid=erin,${PEOPLE}`],
    });
    const erin = await directory.read(`uid=erin,${PEOPLE}`, ['memberOf']);
    expect(erin?.attributes.memberof?.map((dn) => String(dn).toLowerCase())).toContain(groupDn.toLowerCase());
  });

  describe('RFC 4527 post-read', () => {
    it('returns the entry as the modify left it, with the new entryCSN', async () => {
      const dn = `uid=carol,${PEOPLE}`;
      const [csnBefore] = await rawValues(slapd, dn, 'entryCSN');
      const after = await directory.modify(
        dn,
        [{ operation: 'replace', attribute: 'title', values: ['Staff SRE'] }],
        {
          returnAttributes: ['title', 'entryCSN', 'modifyTimestamp'],
        },
      );
      const [csnAfter] = await rawValues(slapd, dn, 'entryCSN');
      expect(csnAfter).not.toBe(csnBefore);
      expect(text(after, 'entryCSN')).toBe(csnAfter);
      expect(after?.attributes.title).toEqual(['Staff SRE']);
      expect(text(after, 'modifyTimestamp')).toMatch(/^\d{14}Z$/);
    });

    it('answers a modify without changes by reading the entry', async () => {
      const entry = await directory.modify(`uid=carol,${PEOPLE}`, [], { returnAttributes: ['uid'] });
      expect(entry?.attributes.uid).toEqual(['carol']);
      await expect(directory.modify(`uid=ghost,${PEOPLE}`, [])).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('RFC 4528 assertion', () => {
    it('lets exactly one of two concurrent modifies asserting the same entryCSN succeed', async () => {
      const dn = `uid=alice,${PEOPLE}`;
      const [csn] = await rawValues(slapd, dn, 'entryCSN');
      const assertion = { type: 'equal', attribute: 'entryCSN', value: csn as string } as const;
      const outcomes = await Promise.allSettled(
        ['first', 'second'].map((title) =>
          directory.modify(dn, [{ operation: 'replace', attribute: 'title', values: [title] }], {
            assertion,
            returnAttributes: ['title', 'entryCSN'],
          }),
        ),
      );
      const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(AssertionFailedError);
      // The winner's title is what the directory holds now.
      const winner = (fulfilled[0] as PromiseFulfilledResult<Awaited<ReturnType<Directory['modify']>>>).value;
      expect(await rawValues(slapd, dn, 'title')).toEqual(winner?.attributes.title);
      expect(await rawValues(slapd, dn, 'entryCSN')).toEqual(winner?.attributes.entrycsn);
    });

    it('guards delete, and a no-op modify, with the assertion', async () => {
      const dn = `uid=ivan,${PEOPLE}`;
      await directory.add(dn, person('ivan'));
      const stale = {
        type: 'equal',
        attribute: 'entryCSN',
        value: '20000101000000.000000Z#000000#000#000000',
      } as const;
      await expect(directory.delete(dn, { assertion: stale })).rejects.toBeInstanceOf(AssertionFailedError);
      await expect(directory.modify(dn, [], { assertion: stale })).rejects.toBeInstanceOf(
        AssertionFailedError,
      );
      expect(await rawValues(slapd, dn, 'uid')).toEqual(['ivan']);
      const [csn] = await rawValues(slapd, dn, 'entryCSN');
      await directory.delete(dn, {
        assertion: { type: 'equal', attribute: 'entryCSN', value: csn as string },
      });
      expect(await directory.read(dn, ['uid'])).toBeUndefined();
    });
  });
});
