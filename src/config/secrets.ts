/**
 * Secrets kept out of the configuration file and the environment: a secret setting written as
 * `{ file: /path }` in YAML, or a `SCIM_BRIDGE_*_FILE` variable, reads the value from a file
 * (Docker and Kubernetes secrets are mounted as files).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { settings } from './settings.ts';
import { getAt, isObj, kindOf, type Obj, type Segment, setAt } from './values.ts';

/** Reads a secret/value file: the content with one trailing newline removed. */
export function readValueFile(file: string, cwd: string): { value: string } | { error: string } {
  try {
    return { value: readFileSync(path.resolve(cwd, file), 'utf8').replace(/\r?\n$/, '') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { error: `cannot read file '${file}' (${code})` };
  }
}

/** `{ file: /path }` in place of a secret in the file: the file's content; `problem` reports what fails. */
export function resolveFileSecrets(
  data: Obj,
  cwd: string,
  problem: (segments: readonly Segment[], text: string) => void,
): void {
  for (const s of settings.filter((x) => x.secret)) {
    const value = getAt(data, s.path);
    if (!isObj(value)) continue;
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== 'file' || typeof value.file !== 'string' || value.file === '') {
      problem(s.path, `got ${kindOf(value)}; expected a string or { file: /path/to/secret }`);
      setAt(data, [...s.path], undefined);
      continue;
    }
    const read = readValueFile(value.file, cwd);
    if ('error' in read) {
      problem(s.path, read.error);
      setAt(data, [...s.path], undefined);
    } else {
      setAt(data, [...s.path], read.value);
    }
  }
}
