/**
 * Entity tags (RFC 9110 §8.8.3) as SCIM uses them for versions (RFC 7644 §3.14): parsing the
 * If-Match / If-None-Match header values and comparing them with a resource's version.
 */

/** `W/"a", "b"` -> ['a', 'b'] (weak and strong tags compare alike here). */
export function parseEtags(header: string): string[] {
  return [...header.matchAll(/(?:W\/)?"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
}

/** `*` matches any current version (RFC 9110 §13.1.1). */
export function isAnyEtag(header: string): boolean {
  return header.trim() === '*';
}

/** Whether a header's tag list names `version` (a bare version or an etag such as `W/"v"`). */
export function etagListNames(header: string, version: string): boolean {
  return parseEtags(header).includes(version);
}

/** If-None-Match against a resource's etag (RFC 9110 §13.1.2): `*` or one of the listed tags. */
export function matchesEtag(header: string, etag: string): boolean {
  if (isAnyEtag(header)) return true;
  const wanted = parseEtags(etag)[0];
  return parseEtags(header).some((tag) => tag === wanted);
}
