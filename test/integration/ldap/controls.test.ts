/**
 * The hand-written controls on a bare ldapts Client against slapd: their BER encoding is accepted,
 * and ldapts 9 routes each response control into the request instance (ControlParser matches on
 * responseType), where the values can be read.
 */
import { Attribute, Change, Client, EqualityFilter, ServerSideSortingRequestControl } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssertionControl, PostReadControl, VirtualListViewControl } from '../../../src/ldap/controls.ts';
import type { RunningSlapd } from '../../../src/localdev/slapd.ts';
import { ldapBinariesMissing, PEOPLE, rawValues, SAMPLE_UIDS, startSeededSlapd } from './helpers.ts';

describe.skipIf(ldapBinariesMissing)('LDAP controls on the wire', () => {
  let slapd: RunningSlapd;
  let client: Client;

  beforeAll(async () => {
    slapd = await startSeededSlapd();
    client = new Client({ url: slapd.url, timeout: 2_000 });
    await client.bind(slapd.serviceDn, slapd.servicePassword);
  });

  afterAll(async () => {
    await client?.unbind();
    await slapd?.stop();
  });

  it('VLV: the response carries the 1-based target position and the list size', async () => {
    const sort = new ServerSideSortingRequestControl({
      critical: true,
      value: { attributeType: 'uid', orderingRule: 'caseIgnoreOrderingMatch' },
    });
    const vlv = new VirtualListViewControl({ beforeCount: 0, afterCount: 1, offset: 2, contentCount: 0 });
    const { searchEntries } = await client.search(
      PEOPLE,
      { scope: 'one', filter: '(objectClass=inetOrgPerson)', attributes: ['uid'] },
      [sort, vlv],
    );
    expect(searchEntries.map((entry) => entry.uid)).toEqual(SAMPLE_UIDS.slice(1, 3));
    expect(vlv.response).toMatchObject({ targetPosition: 2, contentCount: SAMPLE_UIDS.length, result: 0 });
    expect(sort.result?.sortResult).toBe(0);
  });

  it('post-read: the modify response carries the entry as written', async () => {
    const dn = `uid=bob,${PEOPLE}`;
    const postRead = new PostReadControl(['title', 'entryCSN']);
    await client.modify(
      dn,
      [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'title', values: ['Principal'] }),
        }),
      ],
      postRead,
    );
    expect(postRead.entry?.name).toBe(dn);
    const returned = postRead.entry?.toObject(['title', 'entryCSN'], []);
    expect(returned?.title).toBe('Principal');
    expect(returned?.entryCSN).toBe((await rawValues(slapd, dn, 'entryCSN'))[0]);
  });

  it('assertion: a filter that does not hold fails the operation with 122', async () => {
    const dn = `uid=dave,${PEOPLE}`;
    const wrongTitle = new AssertionControl(new EqualityFilter({ attribute: 'title', value: 'Astronaut' }));
    await expect(client.del(dn, wrongTitle)).rejects.toMatchObject({ code: 122 });
    expect(await rawValues(slapd, dn, 'uid')).toEqual(['dave']);

    const rightTitle = new AssertionControl(new EqualityFilter({ attribute: 'title', value: 'Accountant' }));
    await client.modify(
      dn,
      [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'title', values: ['Controller'] }),
        }),
      ],
      rightTitle,
    );
    expect(await rawValues(slapd, dn, 'title')).toEqual(['Controller']);
  });
});
