/**
 * docs/architecture.md §Layers: src/ldap may import only src/ports (plus ldapts and node); the slapd harness
 * in src/localdev imports nothing from the other src layers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)];
  const bare = [...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)];
  const dynamic = [...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)];
  return [...specifiers, ...bare, ...dynamic].map((match) => match[1] as string);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.join(dir, name));
}

describe('layering of the LDAP adapter and the slapd harness', () => {
  it('src/ldap imports only src/ports, its own files, ldapts and node', () => {
    const files = tsFiles(path.join(SRC, 'ldap'));
    expect(files.length).toBeGreaterThan(5);
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((spec) => !(spec.startsWith('node:') || spec === 'ldapts' || spec.startsWith('./')))
        .filter((spec) => !/^\.\.\/ports\/[\w-]+\.ts$/.test(spec))
        .map((spec) => `${path.relative(SRC, file)} -> ${spec}`),
    );
    expect(offending).toEqual([]);
  });

  it('src/localdev/slapd.ts imports nothing from other src layers', () => {
    const offending = importsOf(path.join(SRC, 'localdev', 'slapd.ts')).filter(
      (spec) => !(spec.startsWith('node:') || spec === 'ldapts' || /^\.\/[\w-]+\.ts$/.test(spec)),
    );
    expect(offending).toEqual([]);
  });
});
