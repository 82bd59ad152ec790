import { REDACTED, rootSchema, type SchemaNode, secretPaths } from './settings.ts';

/** Replaces the password in `scheme://user:password@host` (redis://:pw@h, ldap://u:pw@h) by <redacted>. */
export function redactUrlCredentials(value: string): string {
  return value.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*:)[^/@]*@/, `$1${REDACTED}@`);
}

function redactStrings(value: unknown): unknown {
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map(redactStrings);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v)]));
  }
  return value;
}

/**
 * A copy of `config` fit for logging: every secret setting that is present becomes '<redacted>',
 * and credentials embedded in URLs are masked.
 */
export function redactConfig<T extends object>(config: T): T {
  const copy = redactStrings(config) as Record<string, unknown>;
  for (const key of secretPaths) {
    const path = key.split('.');
    let parent: unknown = copy;
    for (const segment of path.slice(0, -1)) {
      parent =
        parent !== null && typeof parent === 'object'
          ? (parent as Record<string, unknown>)[segment]
          : undefined;
    }
    const last = path[path.length - 1]!;
    if (
      parent !== null &&
      typeof parent === 'object' &&
      (parent as Record<string, unknown>)[last] !== undefined
    ) {
      (parent as Record<string, unknown>)[last] = REDACTED;
    }
  }
  redactItems(copy, rootSchema);
  return copy as T;
}

/** Secrets inside list items (events.services[].secret), which are not leaf settings of their own. */
function redactItems(value: unknown, node: SchemaNode | undefined): void {
  if (node === undefined || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) redactItems(item, node.items);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (record[key] === undefined) continue;
    if (child['x-secret'] === true) record[key] = REDACTED;
    else redactItems(record[key], child);
  }
}
