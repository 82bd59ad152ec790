/**
 * A compiled mapping set against the directory's schema: every LDAP attribute type and object class
 * it names must be defined in the directory's subschema (RFC 4512 §4.2). A misspelt attribute would
 * otherwise surface only when a write fails (undefinedAttributeType, RFC 4511 Appendix A code 17) or
 * as a SCIM attribute that silently never has a value.
 */
import { nearestNames } from '../lib/did-you-mean.ts';
import type { Directory, DirectorySubschema, DirFilter } from '../ports/directory.ts';
import { PortError } from '../ports/errors.ts';
import type { CompiledResourceType, MappingSet, SourceLocation } from './compiled.ts';
import type { MappingProblem } from './problems.ts';

/** One name a resource type uses, and where. */
interface NameUse {
  kind: 'attribute' | 'objectClass';
  name: string;
  key: string;
  location: SourceLocation;
  /** The setting was left to its default: say so, the file does not show the name. */
  isDefault?: boolean;
}

/** Problems for every LDAP attribute type or object class of `set` that `subschema` does not define. */
export function checkAgainstSubschema(set: MappingSet, subschema: DirectorySubschema): MappingProblem[] {
  const known = {
    attribute: new Set(subschema.attributeTypes.map((n) => n.toLowerCase())),
    objectClass: new Set(subschema.objectClasses.map((n) => n.toLowerCase())),
  };
  const problems: MappingProblem[] = [];
  for (const rt of set.resourceTypes) {
    const seen = new Set<string>();
    for (const use of namesUsedBy(rt)) {
      // RFC 4512 §2.5: an attribute description is a type plus options (`member;range=0-*`,
      // `userCertificate;binary`); only the type is in the schema. Names are case-insensitive.
      const name = use.kind === 'attribute' ? (use.name.split(';')[0] ?? '') : use.name;
      if (name === '') continue;
      const lower = name.toLowerCase();
      const dedupe = `${use.key}|${use.kind}|${lower}`;
      if (known[use.kind].has(lower) || seen.has(dedupe)) continue;
      seen.add(dedupe);
      const what = use.kind === 'attribute' ? 'LDAP attribute' : 'object class';
      const candidates = use.kind === 'attribute' ? subschema.attributeTypes : subschema.objectClasses;
      const suggestions = closestNames(name, candidates);
      problems.push({
        ...use.location,
        key: use.key,
        message: `${what} "${name}"${use.isDefault ? ` (the default of ${use.key})` : ''} is not defined in the directory's schema (${subschema.source})`,
        hint:
          suggestions.length > 0
            ? `did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?`
            : `no similar name is known; the schema defining "${name}" must be loaded in the directory, or the name corrected`,
      });
    }
  }
  return problems;
}

/** Every attribute type and object class a compiled resource type reads or writes. */
function namesUsedBy(rt: CompiledResourceType): NameUse[] {
  const d = rt.directory;
  const block = d.locations?.directory ?? { file: rt.file, line: 1, column: 1 };
  const setting = (kind: NameUse['kind'], name: string, key: string): NameUse => {
    const location = d.locations?.[key];
    return location ? { kind, name, key, location } : { kind, name, key, location: block, isDefault: true };
  };
  const uses: NameUse[] = [];
  for (const rule of rt.rules) {
    uses.push({ kind: 'attribute', name: rule.ldap, key: `attributes.${rule.key}`, location: rule.location });
    if (rule.reverse) {
      uses.push({
        kind: 'attribute',
        name: rule.reverse,
        key: `attributes.${rule.key}.reverse`,
        location: rule.location,
      });
    }
  }
  d.objectClasses.forEach((objectClass, i) => {
    uses.push(setting('objectClass', objectClass, `directory.objectClasses.${i}`));
  });
  // The RDN attribute is written in the dnTemplate (`uid={userName},...`).
  uses.push({ ...setting('attribute', d.rdnAttribute, 'directory.dnTemplate'), isDefault: false });
  uses.push(setting('attribute', d.idAttribute, 'directory.id'));
  uses.push(setting('attribute', d.versionAttribute, 'directory.version'));
  uses.push(setting('attribute', d.createdAttribute, 'directory.created'));
  uses.push(setting('attribute', d.lastModifiedAttribute, 'directory.lastModified'));
  if (d.fallbackMarker) uses.push(setting('attribute', d.fallbackMarker, 'directory.fallbackMarker'));
  const sort = setting('attribute', d.sort.attribute, 'directory.sort.attribute');
  // The default sort is the RDN attribute, already checked where the dnTemplate names it.
  if (!sort.isDefault || sort.name.toLowerCase() !== d.rdnAttribute.toLowerCase()) uses.push(sort);
  for (const c of d.computed) {
    uses.push(setting('attribute', c.ldap, `directory.computed.${c.ldap}`));
  }
  for (const use of filterNames(d.scopeFilter)) {
    uses.push({ ...setting(use.kind, use.name, 'directory.filter'), isDefault: false });
  }
  return uses;
}

/** Attribute types of an RFC 4515 filter, and the classes of its (objectClass=x) assertions. */
function filterNames(filter: DirFilter): { kind: NameUse['kind']; name: string }[] {
  switch (filter.type) {
    case 'and':
    case 'or':
      return filter.filters.flatMap(filterNames);
    case 'not':
      return filterNames(filter.filter);
    case 'true':
    case 'false':
      return [];
    case 'equal': {
      const names: { kind: NameUse['kind']; name: string }[] = [
        { kind: 'attribute', name: filter.attribute },
      ];
      if (filter.attribute.toLowerCase() === 'objectclass' && typeof filter.value === 'string') {
        names.push({ kind: 'objectClass', name: filter.value });
      }
      return names;
    }
    default:
      // An extensible match may name no attribute at all (`(:dn:2.5.13.5:=x)`, RFC 4515 §3).
      return [{ kind: 'attribute', name: filter.attribute }];
  }
}

/** Numeric OIDs (RFC 4512 §1.4 numericoid) are never suggested: a typo in one is not guessable. */
const NUMERIC_OID = /^\d+(\.\d+)*$/;

/** The known names nearest to `name` (up to three, equally near), when any is near enough. */
export function closestNames(name: string, candidates: readonly string[]): string[] {
  return nearestNames(
    name,
    candidates.filter((candidate) => !NUMERIC_OID.test(candidate)),
    { limit: 3 },
  );
}

/** How long the verify hook waits for the subschema before it skips the check. */
export const SUBSCHEMA_TIMEOUT_MS = 5_000;

/**
 * The MappingStore `verify` hook: checks a set against the directory's subschema, read afresh.
 * When the directory cannot be asked (unreachable, no answer within timeoutMs, or it does not show
 * its subschema) the set is accepted unchecked and `onSkipped` says why: a directory that is down
 * must not keep the bridge from starting or from taking a fixed mapping.
 */
export function subschemaVerifier(
  directory: Pick<Directory, 'subschema'>,
  onSkipped: (reason: string) => void,
  timeoutMs = SUBSCHEMA_TIMEOUT_MS,
): (set: MappingSet) => Promise<MappingProblem[]> {
  return async (set) => {
    let subschema: DirectorySubschema | undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const answer = await Promise.race([directory.subschema(), timeout]);
      if (answer === 'timeout') {
        onSkipped(`the directory did not show its subschema within ${timeoutMs} ms`);
        return [];
      }
      subschema = answer;
    } catch (error) {
      if (!(error instanceof PortError)) throw error;
      onSkipped(`the directory could not be asked: ${error.message}`);
      return [];
    } finally {
      clearTimeout(timer);
    }
    if (!subschema) {
      onSkipped('the directory does not let the bridge read its subschema');
      return [];
    }
    return checkAgainstSubschema(set, subschema);
  };
}
