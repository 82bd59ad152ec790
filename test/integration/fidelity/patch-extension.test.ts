/**
 * Issue 14, class "PATCH with an extension's whole value". RFC 7644 §3.5.2: a PATCH path may be an
 * extension's schema URN, the value then being the extension's object; clients build that object
 * complete, with a `schemas` member naming the extension itself. A value-less add/replace carries
 * the extension object inside the value, keyed by its URN (§3.5.2.1, §3.5.2.3). A replace of a
 * complex value leaves the sub-attributes it does not name unchanged (§3.5.2.3).
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import {
  create,
  ENTERPRISE,
  eachRow,
  expectScimError,
  type Json,
  patchBody,
  type Row,
  USER,
} from './helpers.ts';

let t: TestBridge;
let managerId: string;
let serial = 0;

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
  managerId = await create(t, '/Users', { schemas: [USER], userName: 'px-manager' });
});

afterAll(async () => {
  await t?.stop();
});

/** The enterprise extension every case starts from. */
const START = { employeeNumber: '7', organization: 'Example' };

/** A fresh user carrying START, so that a merge and a wholesale replace tell apart. */
async function startingUser(): Promise<string> {
  serial += 1;
  return create(t, '/Users', {
    schemas: [USER, ENTERPRISE],
    userName: `px-${serial}`,
    name: { formatted: 'Ada Lovelace', familyName: 'Lovelace' },
    [ENTERPRISE]: START,
  });
}

interface Case extends Row {
  operations: () => Json[];
  /** The extension object read back afterwards; undefined when it must be gone. */
  expected: Json | undefined;
  /** Core attributes read back afterwards. */
  core?: Json;
}

const mixedCase = ENTERPRISE.replace('enterprise', 'Enterprise');

const cases: Case[] = [
  {
    label: 'add, path = the URN, value without schemas',
    operations: () => [{ op: 'add', path: ENTERPRISE, value: { department: 'X' } }],
    expected: { ...START, department: 'X' },
  },
  {
    label: 'add, path = the URN, value with schemas naming the extension',
    operations: () => [{ op: 'add', path: ENTERPRISE, value: { schemas: [ENTERPRISE], department: 'X' } }],
    expected: { ...START, department: 'X' },
  },
  {
    label: 'replace, path = the URN, value without schemas (unnamed sub-attributes kept)',
    operations: () => [{ op: 'replace', path: ENTERPRISE, value: { department: 'Y' } }],
    expected: { ...START, department: 'Y' },
  },
  {
    label: 'replace, path = the URN, value with schemas naming the extension',
    operations: () => [
      { op: 'replace', path: ENTERPRISE, value: { schemas: [ENTERPRISE], department: 'Y' } },
    ],
    expected: { ...START, department: 'Y' },
  },
  {
    label: 'replace, the whole value with every attribute and schemas',
    operations: () => [
      {
        op: 'replace',
        path: ENTERPRISE,
        value: { schemas: [ENTERPRISE], employeeNumber: '8', organization: 'Other', department: 'Z' },
      },
    ],
    expected: { employeeNumber: '8', organization: 'Other', department: 'Z' },
  },
  {
    label: 'add, the whole value with schemas and a manager',
    operations: () => [
      {
        op: 'add',
        path: ENTERPRISE,
        value: { schemas: [ENTERPRISE], department: 'X', manager: { value: managerId } },
      },
    ],
    expected: { ...START, department: 'X', manager: expect.objectContaining({ value: expect.any(String) }) },
  },
  {
    label: 'add, value = only schemas (changes nothing)',
    operations: () => [{ op: 'add', path: ENTERPRISE, value: { schemas: [ENTERPRISE] } }],
    expected: START,
  },
  {
    label: 'add, path = the URN in other case, value with schemas in other case',
    operations: () => [{ op: 'add', path: mixedCase, value: { schemas: [mixedCase], department: 'M' } }],
    expected: { ...START, department: 'M' },
  },
  {
    label: 'add, path = the URN in other case, value without schemas',
    operations: () => [{ op: 'add', path: mixedCase, value: { department: 'M' } }],
    expected: { ...START, department: 'M' },
  },
  {
    label: 'value-less add, the extension object keyed by its URN',
    operations: () => [{ op: 'add', value: { [ENTERPRISE]: { department: 'V' } } }],
    expected: { ...START, department: 'V' },
  },
  {
    label: 'value-less add, the extension object with schemas inside',
    operations: () => [{ op: 'add', value: { [ENTERPRISE]: { schemas: [ENTERPRISE], department: 'V' } } }],
    expected: { ...START, department: 'V' },
  },
  {
    label: 'value-less replace, a partial resource with top-level schemas',
    operations: () => [
      {
        op: 'replace',
        value: { schemas: [USER, ENTERPRISE], displayName: 'Ada', [ENTERPRISE]: { department: 'W' } },
      },
    ],
    expected: { ...START, department: 'W' },
    core: { displayName: 'Ada' },
  },
  {
    label: 'value-less replace, the extension object with schemas inside',
    operations: () => [
      { op: 'replace', value: { [ENTERPRISE]: { schemas: [ENTERPRISE], department: 'W' } } },
    ],
    expected: { ...START, department: 'W' },
  },
  {
    label: 'value-less add, a URN-qualified attribute name as the key',
    operations: () => [{ op: 'add', value: { [`${ENTERPRISE}:department`]: 'K' } }],
    expected: { ...START, department: 'K' },
  },
  {
    label: 'remove, path = the URN (the whole extension)',
    operations: () => [{ op: 'remove', path: ENTERPRISE }],
    expected: undefined,
  },
  {
    label: 'the whole value with schemas, then a core replace, in one request',
    operations: () => [
      { op: 'add', path: ENTERPRISE, value: { schemas: [ENTERPRISE], department: 'T' } },
      { op: 'replace', path: 'displayName', value: 'Countess' },
    ],
    expected: { ...START, department: 'T' },
    core: { displayName: 'Countess' },
  },
];

describe('PATCH with an extension URN as path, or the extension inside a value-less value', () => {
  eachRow(cases, async ({ operations, expected, core }) => {
    const id = await startingUser();
    const r = await t.request('PATCH', `/Users/${id}`, patchBody(...operations()));
    expect(r.status, r.text).toBe(200);
    const read = await t.request('GET', `/Users/${id}`);
    expect(read.body[ENTERPRISE]).toEqual(expected);
    expect(r.body[ENTERPRISE]).toEqual(expected);
    expect(read.body.schemas.includes(ENTERPRISE)).toBe(expected !== undefined);
    if (core) expect(read.body).toMatchObject(core);
  });
});

/** Values that are not the extension's: refused with 400 naming what is wrong, nothing written. */
const refused: (Row & { operation: Json; names: string })[] = [
  {
    label: 'an attribute the extension does not have',
    operation: { op: 'add', path: ENTERPRISE, value: { schemas: [ENTERPRISE], costCenter: '4711' } },
    names: 'costCenter',
  },
  {
    label: 'an attribute the extension does not have, without schemas',
    operation: { op: 'add', path: ENTERPRISE, value: { costCenter: '4711' } },
    names: 'costCenter',
  },
  {
    label: 'a value that is not an object',
    operation: { op: 'replace', path: ENTERPRISE, value: 'Engineering' },
    names: ENTERPRISE,
  },
];

describe('PATCH with a value the extension does not have', () => {
  eachRow(
    refused,
    async ({ operation, names }) => {
      const id = await startingUser();
      const r = await t.request('PATCH', `/Users/${id}`, patchBody(operation));
      expectScimError(r, 400, ['invalidValue', 'invalidPath', 'invalidSyntax'], names);
      expect((await t.request('GET', `/Users/${id}`)).body[ENTERPRISE]).toEqual(START);
    },
    ': 400 naming it, nothing written',
  );
});
