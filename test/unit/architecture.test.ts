/**
 * The layers of docs/architecture.md (§Layers) as a test: an import that points the wrong way fails here, naming the
 * file, the import and the rule.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Which other src folders each folder may import (its own is always allowed). */
const ALLOWED: Record<string, string[]> = {
  // Pure, dependency-free helpers (RFC 4514 DNs, "did you mean"): every layer may use them.
  lib: [],
  scim: ['lib'],
  ports: ['lib'],
  config: ['lib'],
  localdev: ['lib'],
  mapping: ['scim', 'ports', 'lib'],
  services: ['scim', 'mapping', 'ports', 'lib'],
  ldap: ['ports', 'config', 'lib'],
  jobs: ['ports', 'config', 'lib'],
  idempotency: ['ports', 'lib'],
  auth: ['config', 'lib'],
  http: ['scim', 'services', 'auth', 'lib'],
  // The CLI is an entry point like main.ts; it may start the service through it.
  cli: ['scim', 'mapping', 'ports', 'config', 'services', 'lib', '(root)'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

function layerOf(file: string): string {
  const relative = path.relative(SRC, file);
  const first = relative.split(path.sep)[0] ?? '';
  return relative.includes(path.sep) ? first : '(root)';
}

function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g))
    found.push(match[1]!);
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  return found;
}

function violations(files: { file: string; text: string }[]): string[] {
  const problems: string[] = [];
  for (const { file, text } of files) {
    const layer = layerOf(file);
    if (layer === '(root)') continue; // main.ts, the composition root, may import everything
    for (const specifier of importsOf(text)) {
      if (!specifier.startsWith('.')) continue;
      const target = layerOf(path.resolve(path.dirname(file), specifier));
      if (target === layer) continue;
      const allowed = ALLOWED[layer];
      if (!allowed) {
        problems.push(`${path.relative(SRC, file)}: folder "${layer}" has no rule in the layer table`);
      } else if (!allowed.includes(target)) {
        problems.push(
          `${path.relative(SRC, file)} imports ${specifier}: ${layer} may import only ${allowed.join(', ') || 'nothing in src'}`,
        );
      }
    }
  }
  return problems;
}

describe('layers (docs/architecture.md §Layers)', () => {
  it('no import points the wrong way', () => {
    const files = sourceFiles(SRC).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
    expect(files.length).toBeGreaterThan(10);
    expect(violations(files)).toEqual([]);
  });

  it.each([
    ['scim', '../services/resources.ts', true],
    ['http', '../ldap/index.ts', true],
    ['mapping', '../http/app.ts', true],
    ['services', '../mapping/convert.ts', false],
    ['http', '../services/resources.ts', false],
    ['ldap', '../ports/directory.ts', false],
    ['mapping', '../lib/dn.ts', false],
    ['lib', '../ports/directory.ts', true],
  ])('a file in %s importing %s is a violation: %s', (layer, specifier, bad) => {
    const file = path.join(SRC, layer, 'example.ts');
    const found = violations([{ file, text: `import { x } from '${specifier}';\n` }]);
    expect(found.length > 0).toBe(bad);
  });
});
