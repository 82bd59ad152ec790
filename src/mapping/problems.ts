/**
 * A problem found in a mapping file, pointing at file:line:column and the key, with a hint: how
 * mapping errors reach the admin (docs/architecture.md §Mappings). A set with any problem is
 * rejected as a whole.
 */
import type { SourceLocation } from './compiled.ts';

export interface MappingProblem extends SourceLocation {
  /** Dotted path of the offending key inside the file. */
  key: string;
  message: string;
  hint?: string;
}

export class MappingError extends Error {
  override readonly name = 'MappingError';
  readonly problems: MappingProblem[];
  constructor(problems: MappingProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

export function formatProblem(p: MappingProblem): string {
  return `${p.file}:${p.line}:${p.column} ${p.key ? `${p.key}: ` : ''}${p.message}${p.hint ? ` (hint: ${p.hint})` : ''}`;
}
