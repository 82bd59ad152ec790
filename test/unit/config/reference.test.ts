import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReference } from '../../../src/config/reference.ts';
import { settings } from '../../../src/config/settings.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

describe('docs/configuration.md', () => {
  it('is up to date (regenerate: node src/config/reference.ts > docs/configuration.md)', () => {
    const committed = readFileSync(path.join(repoRoot, 'docs/configuration.md'), 'utf8');
    expect(committed).toBe(renderReference());
  });

  it('has one row per setting with its variable, and marks secrets', () => {
    const text = renderReference();
    for (const s of settings) {
      const row = text.split('\n').find((line) => line.startsWith(`| \`${s.key}\` |`));
      expect(row, s.key).toBeDefined();
      expect(row).toContain(`\`${s.env}\``);
      expect(row?.includes('**Secret**')).toBe(s.secret);
      if (s.schema.default !== undefined)
        expect(row).toContain(JSON.stringify(s.schema.default).replace(/^"|"$/g, ''));
    }
  });

  it('the generator entry point prints the same text', () => {
    const out = execFileSync(path.join(repoRoot, 'node_modules/.bin/node'), ['src/config/reference.ts'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(out).toBe(renderReference());
  });
});
