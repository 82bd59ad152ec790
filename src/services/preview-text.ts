/**
 * A preview's recorded LDAP operations as LDIF-like text (RFC 2849 change records, `#` notes for
 * controls), then the SCIM outcome: what `scim-ldap-bridge preview` prints and the admin console
 * shows.
 */
import { formatLdapFilter } from '../mapping/ldap-text.ts';
import type { DirValue, SearchRequest } from '../ports/directory.ts';
import type { PreviewResult } from './preview.ts';
import type { RecordedOperation } from './recording-directory.ts';

/** LDIF-like text of the recorded operations, then the SCIM outcome. */
export function formatPreview(result: PreviewResult): string {
  const lines: string[] = [];
  for (const op of result.operations) lines.push(...operationLines(op), '');
  if (result.operations.length === 0) lines.push('# no LDAP operation', '');
  lines.push(
    result.error
      ? `# SCIM response: ${result.status}${result.error.scimType ? ` ${result.error.scimType}` : ''}: ${result.error.detail}`
      : `# SCIM response: ${result.status}`,
  );
  return `${lines.join('\n')}\n`;
}

/** One recorded operation as LDIF (RFC 2849) change records, with `#` notes for controls. */
function operationLines(op: RecordedOperation): string[] {
  switch (op.kind) {
    case 'search':
      return searchLines(op.request);
    case 'read':
      return ['# read', `dn: ${op.dn}`, `attributes: ${op.attributes.join(' ')}`];
    case 'add': {
      const lines = ['# add', `dn: ${op.dn}`, 'changetype: add'];
      for (const [name, values] of Object.entries(op.attributes))
        for (const v of values) lines.push(attributeLine(name, v));
      return lines;
    }
    case 'modify':
      return modifyLines(op);
    case 'rename':
      return ['# modifyDN (the id survives)', `dn: ${op.dn}`, 'changetype: modrdn', `newdn: ${op.newDn}`];
    case 'delete': {
      const lines = ['# delete', `dn: ${op.dn}`, 'changetype: delete'];
      if (op.options?.assertion)
        lines.push(`# control: assertion (RFC 4528) ${formatLdapFilter(op.options.assertion)}`);
      return lines;
    }
  }
}

/** A search: base, scope, filter, attributes and the controls the directory would get. */
function searchLines(r: SearchRequest): string[] {
  const lines = ['# search', `base: ${r.base}`, `scope: ${r.scope}`, `filter: ${formatLdapFilter(r.filter)}`];
  lines.push(`attributes: ${r.attributes.length === 0 ? '1.1 (none)' : r.attributes.join(' ')}`);
  if (r.binaryAttributes && r.binaryAttributes.length > 0)
    lines.push(`binary attributes: ${r.binaryAttributes.join(' ')}`);
  if (r.sort && r.sort.length > 0)
    lines.push(
      `control: server-side sort (RFC 2891) ${r.sort
        .map((k) => `${k.reverse ? '-' : ''}${k.attribute}${k.orderingRule ? `:${k.orderingRule}` : ''}`)
        .join(' ')}`,
    );
  if (r.page?.kind === 'offset')
    lines.push(
      `control: VLV (offset ${r.page.startIndex}, ${r.page.count} entries) when offered, else simple paged results (RFC 2696)`,
    );
  if (r.page?.kind === 'cursor') lines.push(`control: simple paged results (RFC 2696), size ${r.page.count}`);
  if (r.sizeLimit !== undefined && !r.page) lines.push(`size limit: ${r.sizeLimit}`);
  return lines;
}

function modifyLines(op: Extract<RecordedOperation, { kind: 'modify' }>): string[] {
  const lines = ['# modify', `dn: ${op.dn}`, 'changetype: modify'];
  if (op.options?.assertion)
    lines.push(`# control: assertion (RFC 4528) ${formatLdapFilter(op.options.assertion)}`);
  for (const change of op.changes) {
    lines.push(`${change.operation}: ${change.attribute}`);
    for (const v of change.values) lines.push(attributeLine(change.attribute, v));
    lines.push('-');
  }
  return lines;
}

/** LDIF value line (RFC 2849): base64 (`::`) for bytes and for text LDIF cannot carry as is. */
function attributeLine(name: string, value: DirValue): string {
  if (typeof value !== 'string') return `${name}:: ${value.toString('base64')}`;
  const safe = /^[\x01-\x09\x0b-\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b-\x0c\x0e-\x7f]*$/.test(
    value,
  );
  if (value === '' || (safe && !value.endsWith(' '))) return `${name}: ${value}`;
  return `${name}:: ${Buffer.from(value, 'utf8').toString('base64')}`;
}
