/**
 * Names that must round-trip: the values that name an entry (the DN template's placeholders) and
 * the values that tell resources apart (`uniqueness: server` or `global`, RFC 7643 §2.1). Control
 * and format characters (Unicode Cc, Cf: NUL, CR LF, zero-width space and joiner, bidi marks, the
 * byte-order mark) are invisible or mangled on the way through LDAP, so `ali\u200bce` would sit
 * beside `alice` looking the same (issue 15). Such a value is refused, naming the attribute.
 */
import type { CompiledResourceType, CompiledRule } from './compiled.ts';
import { ruleMatchesPath } from './compiled.ts';

/** Cs: in a `u` regular expression only a lone surrogate is one (a pair is one code point). */
const LONE_SURROGATE = /\p{Cs}/u;
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;

/** A short description of the first character a name may not carry, or undefined when none. */
export function nameProblem(text: string): string | undefined {
  if (LONE_SURROGATE.test(text)) return 'holds a lone surrogate, which is no Unicode character';
  const found = INVISIBLE.exec(text);
  if (!found) return undefined;
  const code = found[0].codePointAt(0) ?? 0;
  const hex = code.toString(16).toUpperCase().padStart(4, '0');
  return `holds the control or invisible character U+${hex} at position ${found.index}; names must be visible text`;
}

const nameRulesByType = new WeakMap<CompiledResourceType, CompiledRule[]>();

/** The rules whose values name an entry or must be unique. */
export function nameRules(rt: CompiledResourceType): CompiledRule[] {
  const cached = nameRulesByType.get(rt);
  if (cached) return cached;
  const placeholders = [...rt.directory.dnTemplate.matchAll(/\{([^}]+)\}/g)].flatMap((m) =>
    (m[1] ?? '').split('|').map((p) => p.trim()),
  );
  const rules = rt.rules.filter(
    (rule) =>
      !rule.references &&
      (rule.leafDefinition.uniqueness !== 'none' || placeholders.some((p) => ruleMatchesPath(rule, p))),
  );
  nameRulesByType.set(rt, rules);
  return rules;
}
