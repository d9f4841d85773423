import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
} from 'yaml';
import { DvmError, type ErrorCause } from '../errors/dvm-error.ts';
import { forbiddenKeySegments, keyPathText } from './forbidden-keys.ts';

import type { PathSegment } from './path.ts';

export { formatPath } from './path.ts';
export type { PathSegment };

/** One YAML document of a source file, as plain data plus a way back to its lines. */
export interface SourceDocument {
  file: string;
  /** 0-based position of the document in its file. */
  index: number;
  data: unknown;
  /** Directory that relative paths inside the document (like an App's spec.path) are relative to. */
  baseDir?: string;
  /** Line and column (1-based) of the node at a path, or of the deepest ancestor that exists. */
  locate(path: readonly PathSegment[]): { line: number; column: number };
}

/** Result of parsing one file: its documents, or every syntax error found. */
export interface ParsedFile {
  documents: SourceDocument[];
  errors: ErrorCause[];
}

/** Parses a multi-document YAML text; empty documents are skipped, syntax errors carry file:line:col. */
export function parseYamlSource(text: string, file: string, baseDir?: string): ParsedFile {
  const lineCounter = new LineCounter();
  const documents: SourceDocument[] = [];
  const errors: ErrorCause[] = [];
  let index = 0;
  for (const doc of parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })) {
    if (!('contents' in doc)) continue;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        errors.push({
          code: 'DVM_YAML_SYNTAX',
          message: e.message.split('\n')[0],
          file,
          line,
          column: col,
          fix: 'Correct the YAML at this position (indentation, quoting, a missing colon or a duplicate key).',
        });
      }
      index++;
      continue;
    }
    if (doc.contents === null) {
      index++;
      continue;
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      const { line, col } = lineCounter.linePos(doc.range[0]);
      const tooDeep = error instanceof RangeError;
      errors.push({
        code: 'DVM_YAML_SYNTAX',
        message: tooDeep ? 'the document is nested too deeply to read' : (error as Error).message,
        file,
        line,
        column: col,
        fix: tooDeep
          ? 'Flatten the document: dvm objects need only a few levels of nesting.'
          : 'Correct the YAML at this position.',
      });
      index++;
      continue;
    }
    // Refused here, where the file and line are known: copies made later by assignment would drop the key silently.
    const forbidden = forbiddenKeySegments(data);
    if (forbidden !== undefined) {
      const { line, column } = locate(doc, lineCounter, forbidden);
      errors.push({
        code: 'DVM_SCHEMA_INVALID',
        message: `the key "${forbidden.at(-1)}" at ${keyPathText(forbidden)} is not allowed ("__proto__" and "constructor.prototype" are never accepted)`,
        file,
        line,
        column,
        fix: 'Rename the key.',
      });
      index++;
      continue;
    }
    // A document with only comments (or a trailing `---`) holds nothing: skipped, as kubectl does.
    if (data !== null && data !== undefined)
      documents.push({ file, index, data, baseDir, locate: (path) => locate(doc, lineCounter, path) });
    index++;
  }
  return { documents, errors };
}

function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly PathSegment[],
): { line: number; column: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      node = node.items[segment];
      offset = (node as Node).range?.[0] ?? offset;
    } else {
      break;
    }
  }
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/**
 * Throws for the first file that failed to parse, listing all its errors: DVM_YAML_SYNTAX, or the errors' one other
 * code (a forbidden key is DVM_SCHEMA_INVALID).
 */
export function assertParsed(parsed: ParsedFile[]): SourceDocument[] {
  const errors = parsed.flatMap((p) => p.errors);
  if (errors.length > 0) {
    const first = errors[0];
    const code = errors.every((e) => e.code === first.code) ? first.code : 'DVM_YAML_SYNTAX';
    const what = code === 'DVM_YAML_SYNTAX' ? 'YAML syntax error(s)' : 'problem(s) reading the files';
    throw new DvmError(code, `${errors.length} ${what}; nothing was written`, {
      file: first.file,
      line: first.line,
      column: first.column,
      causes: errors,
    });
  }
  return parsed.flatMap((p) => p.documents);
}
