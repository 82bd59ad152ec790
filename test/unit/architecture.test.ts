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
  // The change feed: an adapter like ldap (its own LDAP connection) that publishes through jobs.
  feed: ['ports', 'config', 'mapping', 'jobs', 'ldap', 'lib'],
  idempotency: ['ports', 'lib'],
  cluster: ['ports', 'lib'],
  auth: ['config', 'lib'],
  // The process's Prometheus registry (prom-client): adapters report through callbacks that
  // main.ts wires to it, so only http (and the root) import it (docs/architecture.md §Metrics).
  observability: ['lib'],
  // The admin console: server-rendered pages over the same use cases, plus the queues' admin view.
  admin: ['scim', 'services', 'mapping', 'auth', 'observability', 'jobs', 'ports', 'config', 'lib'],
  http: ['scim', 'services', 'auth', 'observability', 'admin', 'lib'],
  // The CLI is an entry point like main.ts; it may start the service through it.
  cli: ['scim', 'mapping', 'ports', 'config', 'services', 'lib', '(root)'],
};

/**
 * Narrower grants, by folder: single modules (relative to src) a folder may import although their
 * folder is not in its table, and folders it may import types from (`import type`) only.
 * - http reads the compiled resource types (mapping/compiled.ts: the model and its lookups by
 *   endpoint and name, nothing that touches entries) to route requests and publish discovery;
 * - http names the ports' types (IdempotencyStore) that main.ts fills with implementations.
 */
const MODULES: Record<string, string[]> = { http: ['mapping/compiled.ts'] };
const TYPES_ONLY: Record<string, string[]> = { http: ['ports'] };

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

function importsOf(text: string): { specifier: string; typeOnly: boolean }[] {
  const found: { specifier: string; typeOnly: boolean }[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(import|export)\s(type\s)?[^'"]*?from\s+['"]([^'"]+)['"]/g))
    found.push({ specifier: match[3]!, typeOnly: match[2] !== undefined });
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g))
    found.push({ specifier: match[1]!, typeOnly: false });
  return found;
}

function granted(layer: string, target: string, targetFile: string, typeOnly: boolean): boolean {
  if (ALLOWED[layer]?.includes(target)) return true;
  if (MODULES[layer]?.includes(path.relative(SRC, targetFile).split(path.sep).join('/'))) return true;
  return typeOnly && (TYPES_ONLY[layer]?.includes(target) ?? false);
}

function violations(files: { file: string; text: string }[]): string[] {
  const problems: string[] = [];
  for (const { file, text } of files) {
    const layer = layerOf(file);
    if (layer === '(root)') continue; // main.ts, the composition root, may import everything
    for (const { specifier, typeOnly } of importsOf(text)) {
      if (!specifier.startsWith('.')) continue;
      const targetFile = path.resolve(path.dirname(file), specifier);
      const target = layerOf(targetFile);
      if (target === layer) continue;
      const allowed = ALLOWED[layer];
      if (!allowed) {
        problems.push(`${path.relative(SRC, file)}: folder "${layer}" has no rule in the layer table`);
      } else if (!granted(layer, target, targetFile, typeOnly)) {
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
    ['http', '../mapping/compiled.ts', false],
    ['http', '../mapping/convert.ts', true],
    ['http', '../ports/idempotency.ts', true],
    ['http', 'type:../ports/idempotency.ts', false],
    ['services', 'type:../http/app.ts', true],
  ])('a file in %s importing %s is a violation: %s', (layer, specifier, bad) => {
    const file = path.join(SRC, layer, 'example.ts');
    const [keyword, from] = specifier.startsWith('type:')
      ? ['import type', specifier.slice(5)]
      : ['import', specifier];
    const found = violations([{ file, text: `${keyword} { x } from '${from}';\n` }]);
    expect(found.length > 0).toBe(bad);
  });
});
