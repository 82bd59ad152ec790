/**
 * The directory's subschema subentry (RFC 4512 §4.2) -> DirectorySubschema: the names and OIDs of
 * its attribute types and object classes, taken from their RFC 4512 §4.1 descriptions.
 */
import type { DirEntry, DirectorySubschema } from '../ports/directory.ts';

/** Subentry read when the rootDSE names none (OpenLDAP's and 389-DS's default DN). */
export const DEFAULT_SUBSCHEMA_DN = 'cn=Subschema';
/** The two schema attributes the checks need (operational: they must be asked for by name, RFC 4512 §4.4). */
export const SUBSCHEMA_ATTRIBUTES = ['attributeTypes', 'objectClasses'];

/**
 * Keywords of attribute type and object class descriptions that take no value (RFC 4512 §4.1.1,
 * §4.1.2). Every other keyword, X- extensions included, is followed by one value.
 */
const FLAGS = new Set([
  'OBSOLETE',
  'SINGLE-VALUE',
  'COLLECTIVE',
  'NO-USER-MODIFICATION',
  'ABSTRACT',
  'STRUCTURAL',
  'AUXILIARY',
]);

type Token =
  | { kind: 'open' }
  | { kind: 'close' }
  | { kind: 'word'; text: string }
  | { kind: 'quoted'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < text.length) {
    const c = text[pos]!;
    if (/\s/.test(c)) pos++;
    else if (c === '(' || c === ')') {
      tokens.push(c === '(' ? { kind: 'open' } : { kind: 'close' });
      pos++;
    } else if (c === "'") {
      // qdstring (RFC 4512 §4.1): a quote inside is escaped as \27, so the next quote ends it.
      const end = text.indexOf("'", pos + 1);
      if (end < 0) throw new SyntaxError('unterminated quoted string');
      tokens.push({ kind: 'quoted', text: text.slice(pos + 1, end) });
      pos = end + 1;
    } else {
      const start = pos;
      while (pos < text.length && !/[\s()']/.test(text[pos]!)) pos++;
      tokens.push({ kind: 'word', text: text.slice(start, pos) });
    }
  }
  return tokens;
}

/**
 * The OID and every NAME of one description, e.g.
 * `( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )` -> ['2.5.4.4', 'sn', 'surname'].
 * Grammar (RFC 4512 §4.1): LPAREN numericoid [ NAME qdescrs ] *( keyword [value] ) RPAREN, where
 * qdescrs is one 'descr' or ( 'descr' 'descr' ... ). undefined when the text does not parse.
 */
export function namesOfDescription(description: string): string[] | undefined {
  let tokens: Token[];
  try {
    tokens = tokenize(description);
  } catch {
    return undefined;
  }
  const first = tokens[0];
  const oid = tokens[1];
  if (first?.kind !== 'open' || !oid || (oid.kind !== 'word' && oid.kind !== 'quoted')) return undefined;
  // 389-DS publishes "<name>-oid" for types without an OID; kept as given, it matches nothing harmful.
  const names = [oid.text];
  let index = 2;
  /** One value: a word, a quoted string, or a parenthesised list of them; returns its texts. */
  const value = (): string[] | undefined => {
    const token = tokens[index++];
    if (!token) return undefined;
    if (token.kind === 'word' || token.kind === 'quoted') return [token.text];
    if (token.kind === 'close') return undefined;
    const items: string[] = [];
    for (;;) {
      const item = tokens[index++];
      if (!item) return undefined;
      if (item.kind === 'close') return items;
      if (item.kind === 'open') return undefined;
      // `$` separates oids in oidlist (RFC 4512 §4.1); it is not a value.
      if (item.kind === 'quoted' || item.text !== '$') items.push(item.text);
    }
  };
  for (;;) {
    const token = tokens[index++];
    if (!token) return undefined;
    if (token.kind === 'close') return index === tokens.length ? names : undefined;
    if (token.kind !== 'word') return undefined;
    const keyword = token.text.toUpperCase();
    if (FLAGS.has(keyword)) continue;
    const values = value();
    if (!values) return undefined;
    if (keyword === 'NAME') names.push(...values);
  }
}

function texts(entry: DirEntry, attribute: string): string[] {
  return (entry.attributes[attribute.toLowerCase()] ?? []).map((v) =>
    typeof v === 'string' ? v : v.toString('utf8'),
  );
}

function namesOf(descriptions: string[]): string[] {
  return descriptions.flatMap((description) => namesOfDescription(description) ?? []);
}

/**
 * The subschema of a subentry read with SUBSCHEMA_ATTRIBUTES. undefined when either list came back
 * empty: access controls may hide the attributes without an error, and checking against an empty
 * schema would refuse every mapping.
 */
export function subschemaFromEntry(entry: DirEntry): DirectorySubschema | undefined {
  const attributeTypes = namesOf(texts(entry, 'attributeTypes'));
  const objectClasses = namesOf(texts(entry, 'objectClasses'));
  if (attributeTypes.length === 0 || objectClasses.length === 0) return undefined;
  return { source: entry.dn, attributeTypes, objectClasses };
}

/** The subschema subentry's DN from a rootDSE read with ['subschemaSubentry'] (RFC 4512 §5.1). */
export function subschemaDnOf(rootDse: DirEntry | undefined): string {
  return (rootDse && texts(rootDse, 'subschemaSubentry')[0]) || DEFAULT_SUBSCHEMA_DN;
}
