/**
 * Edits of the YAML configuration file by the CLI (`tokens create|revoke`, `trust add|remove`):
 * one list item added or removed, everything else (comments, order, other settings) kept, and the
 * result validated by loadConfig before it replaces the file, so a CLI edit cannot leave a file
 * that the service would refuse.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import { ConfigError } from './errors.ts';
import { DEFAULT_CONFIG_FILE } from './layers.ts';
import { loadConfig } from './load.ts';
import { CONFIG_FILE_ENV } from './settings.ts';

/** The file the service reads: SCIM_BRIDGE_CONFIG, else config/bridge.yaml (created when absent). */
export function configFilePath(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return path.resolve(cwd, env[CONFIG_FILE_ENV] ?? DEFAULT_CONFIG_FILE);
}

function edit(file: string, change: (doc: ReturnType<typeof parseDocument>) => number): number {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new ConfigError([{ setting: file, source: 'file', text: 'is not valid YAML' }]);
  const changed = change(doc);
  if (changed === 0) return 0;
  const next = doc.toString();
  const candidate = `${file}.candidate`;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(candidate, next, { mode: 0o600 });
  try {
    // As the service would load it (same working directory and environment). Throws ConfigError
    // naming every problem; the original file is untouched then.
    loadConfig({ file: candidate });
  } catch (error) {
    rmSync(candidate, { force: true });
    throw error;
  }
  renameSync(candidate, file);
  return changed;
}

/** Appends `item` to the list at `keys` (e.g. ['auth', 'tokens']), creating the list if needed. */
export function appendToConfigList(file: string, keys: readonly string[], item: object): void {
  edit(file, (doc) => {
    const list = doc.getIn(keys, true);
    if (isSeq(list)) list.add(doc.createNode(item));
    else {
      const seq = new YAMLSeq();
      seq.add(doc.createNode(item));
      doc.setIn(keys, seq);
    }
    return 1;
  });
}

/** Removes the items of the list at `keys` whose `name` is `name`; how many were removed. */
export function removeFromConfigList(file: string, keys: readonly string[], name: string): number {
  return edit(file, (doc) => {
    const list = doc.getIn(keys, true);
    if (!isSeq(list)) return 0;
    const before = list.items.length;
    list.items = list.items.filter((item) => !(isMap(item) && item.get('name') === name));
    return before - list.items.length;
  });
}
