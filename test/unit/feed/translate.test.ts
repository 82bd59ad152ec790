import { describe, expect, it } from 'vitest';
import { parseLogRecord, type RawLogEntry } from '../../../src/feed/accesslog.ts';
import { feedWarnings } from '../../../src/feed/index.ts';
import {
  eventsOfRecord,
  feedEventId,
  scopeMatches,
  type TranslateContext,
} from '../../../src/feed/translate.ts';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import type { DirFilter } from '../../../src/ports/directory.ts';

const mappings = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
const IDS: Record<string, string> = { 'uid=erin,ou=people,dc=example,dc=com': 'erin-id' };
const context: TranslateContext = {
  resourceTypes: mappings.resourceTypes,
  entryMatches: async () => {
    throw new Error('every record here names its object classes');
  },
  idOfDn: async (dn) => IDS[dn.toLowerCase()],
};
const record = (entry: Partial<RawLogEntry>) =>
  parseLogRecord({
    reqStart: '20261205005233.835770Z',
    reqAuthzID: 'cn=admin,dc=example,dc=com',
    reqEntryUUID: 'the-id',
    ...entry,
  } as RawLogEntry);
const user = { reqDN: 'uid=bob,ou=People,dc=example,dc=com', reqOld: ['objectClass: inetOrgPerson'] };
const group = { reqDN: 'cn=eng,ou=Groups,dc=example,dc=com', reqOld: ['objectClass: groupOfNames'] };

describe('a directory change as the events of the same SCIM write', () => {
  it.each([
    [
      'a modify of a mapped attribute',
      { ...user, reqType: 'modify', reqMod: ['displayName:= B', 'modifyTimestamp:= 20261205005233Z'] },
      [['user.updated', ['displayName']]],
    ],
    [
      'a deactivation',
      { ...user, reqType: 'modify', reqMod: ['scimActive:= FALSE'] },
      [['user.deactivated', ['active']]],
    ],
    [
      'an add',
      {
        reqDN: user.reqDN,
        reqType: 'add',
        reqMod: ['objectClass:+ inetOrgPerson', 'uid:+ bob', 'sn:+ B', 'cn:+ B'],
      },
      [['user.created', expect.arrayContaining(['userName', 'name.familyName'])]],
    ],
    ['a delete', { ...user, reqType: 'delete' }, [['user.deleted', []]]],
    [
      'a rename',
      { ...user, reqType: 'modrdn', reqNewDN: 'uid=rob,ou=People,dc=example,dc=com' },
      [['user.updated', ['userName']]],
    ],
    [
      'a membership delta',
      { ...group, reqType: 'modify', reqMod: ['member:+ uid=erin,ou=People,dc=example,dc=com'] },
      [['group.member_added', ['members']]],
    ],
    [
      'a member list replaced',
      {
        ...group,
        reqType: 'modify',
        reqMod: ['member:= uid=erin,ou=People,dc=example,dc=com'],
        reqOld: [...group.reqOld, 'member: uid=gone,ou=People,dc=example,dc=com'],
      },
      [['group.member_added', ['members']]],
    ],
    ['an unmapped attribute only', { ...user, reqType: 'modify', reqMod: ['description:= x'] }, []],
    [
      'an entry outside every resource type',
      {
        reqDN: 'cn=svc,dc=example,dc=com',
        reqOld: ['objectClass: person'],
        reqType: 'modify',
        reqMod: ['sn:= x'],
      },
      [],
    ],
    [
      'an entry in scope that is not of the type',
      {
        reqDN: 'cn=x,ou=People,dc=example,dc=com',
        reqOld: ['objectClass: device'],
        reqType: 'modify',
        reqMod: ['cn:= x'],
      },
      [],
    ],
  ])('%s', async (_, entry, expected) => {
    const events = await eventsOfRecord(record(entry as Partial<RawLogEntry>), context);
    expect(events.map((e) => [e.type, e.changedAttributes])).toEqual(expected);
    for (const event of events)
      expect(event).toMatchObject({
        origin: 'directory',
        resourceId: 'the-id',
        actor: 'cn=admin,dc=example,dc=com',
      });
  });

  it('names the members by id; a member the directory does not hold is left out', async () => {
    const events = await eventsOfRecord(
      record({
        ...group,
        reqType: 'modify',
        reqMod: [
          'member:- uid=erin,ou=People,dc=example,dc=com',
          'member:- uid=nobody,ou=People,dc=example,dc=com',
        ],
      }),
      context,
    );
    expect(events.map((e) => [e.type, e.memberIds])).toEqual([['group.member_removed', ['erin-id']]]);
  });

  it('event ids are stable per record and position, and distinct otherwise', () => {
    expect(feedEventId('20261205005233.835770Z', 0)).toBe(feedEventId('20261205005233.835770Z', 0));
    expect(feedEventId('20261205005233.835770Z', 0)).not.toBe(feedEventId('20261205005233.835770Z', 1));
    expect(feedEventId('20261205005233.835770Z', 0)).not.toBe(feedEventId('20261205005233.835771Z', 0));
    expect(feedEventId('20261205005233.835770Z', 0)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('a record without an entry id yields nothing', async () => {
    const entry = {
      ...user,
      reqType: 'modify',
      reqMod: ['displayName:= B'],
      reqEntryUUID: undefined,
      reqOld: ['objectClass: inetOrgPerson'],
    };
    expect(await eventsOfRecord(record(entry as never), context)).toEqual([]);
  });
});

describe('scope filters on object classes', () => {
  const eq = (value: string): DirFilter => ({ type: 'equal', attribute: 'objectClass', value });
  it.each([
    [eq('inetOrgPerson'), ['top', 'InetOrgPerson'], true],
    [eq('groupOfNames'), ['inetOrgPerson'], false],
    [{ type: 'and', filters: [eq('person'), { type: 'not', filter: eq('computer') }] }, ['person'], true],
    [
      { type: 'and', filters: [eq('person'), { type: 'not', filter: eq('computer') }] },
      ['person', 'computer'],
      false,
    ],
    [{ type: 'or', filters: [eq('a'), { type: 'equal', attribute: 'uid', value: 'x' }] }, ['a'], true],
    [{ type: 'or', filters: [eq('a'), { type: 'equal', attribute: 'uid', value: 'x' }] }, ['b'], undefined],
    [{ type: 'and', filters: [eq('a'), { type: 'present', attribute: 'mail' }] }, ['a'], undefined],
    [{ type: 'and', filters: [eq('a'), { type: 'present', attribute: 'mail' }] }, ['b'], false],
    [{ type: 'true' }, [], true],
  ] as [DirFilter, string[], boolean | undefined][])('%j on %j', (filter, classes, expected) => {
    expect(scopeMatches(filter, classes)).toBe(expected);
  });
});

describe('feed warnings for /ready', () => {
  const base = {
    role: 'active' as const,
    lagMs: 0,
    events: { directory: 0 },
    ownWrites: 0,
    records: 0,
    reconciliations: 0,
  };
  it.each([
    [{ ...base, lastPollAt: Date.now() }, []],
    [
      { ...base, lastPollAt: Date.now(), lastError: 'connect ECONNREFUSED' },
      ['feed: the last poll failed (connect ECONNREFUSED)'],
    ],
    [{ ...base, lastPollAt: Date.now(), lagMs: 125_000 }, ['feed: 125 s behind the directory log']],
    [{ ...base, lastPollAt: Date.now() - 120_000 }, ['feed: no poll for 120 s']],
    [{ ...base, role: 'standby' as const, lastPollAt: Date.now() - 120_000 }, []],
  ])('%j', (status, expected) => {
    expect(feedWarnings(status, { pollIntervalMs: 250 })).toEqual(expected);
  });
});
