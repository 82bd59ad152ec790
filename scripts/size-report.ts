/**
 * `npm run size`: the files, classes and functions of src/ that are over the project's size limits
 * (a file over 450 lines, a class over 300, a function or method over 60), largest first.
 * `npm run size -- --all` lists the largest of each kind whether over or not; `--check` exits 1
 * when anything is over. A line scanner, not a parser: a block runs from its signature line to the
 * first later line that closes a brace at the signature's indentation, which is how the formatter
 * (biome) lays out every function and class in this code base.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const LIMITS = { file: 450, class: 300, function: 60 } as const;
type Kind = keyof typeof LIMITS;

interface Measured {
  kind: Kind;
  name: string;
  file: string;
  line: number;
  lines: number;
}

const SRC = path.resolve(import.meta.dirname, '../src');

const CLASS_START = /^(\s*)(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(\w+)/;
const FUNCTION_STARTS: RegExp[] = [
  // function declarations: `export async function name(` / `function* name(`
  /^(\s*)(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*(\w+)?\s*[<(]/,
  // methods, getters, constructors: `  private async name(` / `  get name(` / `  name<T>(`
  /^(\s+)(?:(?:public|private|protected|static|override|readonly|async|get|set)\s+)*\*?(#?\w+)\s*(?:<[^>]*>)?\s*\(/,
  // arrow functions bound to a name or a property: `const name = async (` / `name: (x) =>`
  /^(\s*)(?:export\s+)?(?:(?:const|let)\s+)?(\w+)\s*(?::[^=]*)?[=:]\s*(?:async\s+)?(?:\(|\w+\s*=>)/,
  // anonymous callbacks opened at the end of a line: `items.map(async (x) => {`
  /^(\s*)(?!.*\bfunction\b).*?()=>\s*\{$/,
];
const NOT_FUNCTIONS = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'return',
  'function',
  'await',
  'new',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
    });
}

/**
 * The line index of the brace that closes the block whose signature starts at `start`: the first
 * later line at the same indentation that starts with `}`. Lines at that indentation starting with
 * `)` continue a multi-line signature; any other line there, or a shallower one, means the
 * signature had no block of its own (a one-liner, an interface member, an expression).
 */
function blockEnd(lines: string[], start: number, indent: string): number | undefined {
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const lineIndent = /^\s*/.exec(line)?.[0] ?? '';
    if (lineIndent.length > indent.length) continue;
    if (lineIndent.length < indent.length) return undefined;
    if (line.trimStart().startsWith('}')) return i;
    if (!line.trimStart().startsWith(')')) return undefined;
  }
  return undefined;
}

function measure(file: string): Measured[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const relative = path.relative(path.dirname(SRC), file);
  const found: Measured[] = [
    { kind: 'file', name: relative, file: relative, line: 1, lines: lines.length - 1 },
  ];
  lines.forEach((text, index) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(text)) return;
    const classMatch = CLASS_START.exec(text);
    if (classMatch) {
      const end = blockEnd(lines, index, classMatch[1] ?? '');
      if (end !== undefined)
        found.push({
          kind: 'class',
          name: classMatch[2] ?? '?',
          file: relative,
          line: index + 1,
          lines: end - index + 1,
        });
      return;
    }
    for (const pattern of FUNCTION_STARTS) {
      const match = pattern.exec(text);
      if (!match) continue;
      const name = match[2] || '(anonymous)';
      if (NOT_FUNCTIONS.has(name)) continue;
      const end = blockEnd(lines, index, match[1] ?? '');
      if (end !== undefined && end > index)
        found.push({ kind: 'function', name, file: relative, line: index + 1, lines: end - index + 1 });
      return;
    }
  });
  return found;
}

const all = process.argv.includes('--all');
const measured = sourceFiles(SRC).flatMap(measure);
let over = 0;
for (const kind of Object.keys(LIMITS) as Kind[]) {
  const limit = LIMITS[kind];
  const ofKind = measured.filter((m) => m.kind === kind).sort((a, b) => b.lines - a.lines);
  const shown = all ? ofKind.slice(0, 15) : ofKind.filter((m) => m.lines > limit);
  over += ofKind.filter((m) => m.lines > limit).length;
  console.log(
    `${kind === 'class' ? 'classes' : kind + 's'} over ${limit} lines: ${ofKind.filter((m) => m.lines > limit).length}`,
  );
  for (const m of shown) {
    const where = kind === 'file' ? m.file : `${m.file}:${m.line} ${m.name}`;
    console.log(`  ${String(m.lines).padStart(5)}  ${where}${m.lines > limit ? '' : '  (within limit)'}`);
  }
}
if (process.argv.includes('--check') && over > 0) process.exitCode = 1;
