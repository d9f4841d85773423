import { resolve } from 'node:path';
import type { ErrorCause } from '../../errors/dvm-error.ts';
import type { Placement, ResourceObject } from '../../model/api.ts';
import type { KindInfo } from '../../model/catalog.ts';
import type { KindRegistry } from '../../model/kind-registry.ts';
import { formatPath, type PathSegment } from '../../model/path.ts';
import { didYouMean } from '../../model/suggest.ts';
import type { SourceDocument } from '../../model/yaml-source.ts';
import type { RefEdge, StoredObject } from '../../store/store.ts';

/** One object of an apply batch as it moves through the stages. */
export interface Pending {
  doc: SourceDocument;
  info: KindInfo;
  /** The object as applied: input with legacy names normalized and system metadata removed. */
  object: ResourceObject;
  /** The resourceVersion the input carried, if any (a stale one is a conflict). */
  inputResourceVersion?: string;
  placement: Placement;
  key: string;
  effective: ResourceObject;
  provenance: Record<string, string>;
  refs: RefEdge[];
  existing?: StoredObject;
  /** Set for a stored object outside the batch that is recomputed because `via` changed. */
  via?: string;
}

/** Collects problems of a batch, each with its file, line and column. */
export class ProblemList {
  readonly causes: ErrorCause[] = [];

  /** Records a problem at a path of a document. */
  add(
    doc: SourceDocument,
    label: string,
    path: readonly PathSegment[],
    cause: Omit<ErrorCause, 'file' | 'line' | 'column' | 'path' | 'object'>,
  ): void {
    const { line, column } = doc.locate(path);
    this.causes.push({
      ...cause,
      file: doc.file,
      line,
      column,
      path: formatPath(path) || undefined,
      object: label,
    });
  }

  /** The problems in file order (file, line, column). */
  sorted(): ErrorCause[] {
    return [...this.causes].sort(
      (a, b) =>
        (a.file ?? '').localeCompare(b.file ?? '') ||
        (a.line ?? 0) - (b.line ?? 0) ||
        (a.column ?? 0) - (b.column ?? 0),
    );
  }

  get size(): number {
    return this.causes.length;
  }
}

// Host paths in a spec are relative to the file that declares them (as a compose file's build context is), so
// applying from another directory means the same folder; absolute paths and `~` are kept as written.
const HOST_PATH_FIELDS: Record<string, string> = { App: 'path', Task: 'workdir' };

function resolveSourcePath(object: ResourceObject, doc: SourceDocument): void {
  const field = Object.hasOwn(HOST_PATH_FIELDS, object.kind) ? HOST_PATH_FIELDS[object.kind] : undefined;
  const path = field ? object.spec?.[field] : undefined;
  if (!field || typeof path !== 'string' || path === '' || !doc.baseDir) return;
  if (path.startsWith('/') || path.startsWith('~')) return;
  object.spec = { ...object.spec, [field]: resolve(doc.baseDir, path) };
}

const SYSTEM_FIELDS = ['uid', 'creationTimestamp', 'generation', 'resourceVersion'];

/** `Kind/name` of a document, as far as it can be read. */
export function labelOf(data: Record<string, unknown>): string {
  const metadata = (data.metadata ?? {}) as Record<string, unknown>;
  return `${String(data.kind ?? '?')}/${String(metadata.name ?? '?')}`;
}

/**
 * Checks that a document is an object with apiVersion, a known kind and metadata.name, and normalizes it:
 * legacy `metadata.project` becomes `metadata.domain`, system metadata is set aside.
 */
export function readDocument(
  doc: SourceDocument,
  kinds: KindRegistry,
  problems: ProblemList,
  warnings: string[],
): { info: KindInfo; object: ResourceObject; inputResourceVersion?: string } | undefined {
  const data = doc.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    problems.add(doc, '?', [], {
      code: 'DVM_SCHEMA_INVALID',
      message: 'a document must be an object with apiVersion, kind, metadata and spec',
      fix: 'Start the document with `apiVersion: devopsmaestro.io/v1` and `kind: KIND`.',
    });
    return undefined;
  }
  const raw = data as Record<string, unknown>;
  const label =
    raw.kind === undefined && (raw.metadata as { name?: unknown })?.name === undefined
      ? `document ${doc.index + 1}`
      : labelOf(raw);
  const before = problems.size;
  if (typeof raw.kind !== 'string' || raw.kind === '') {
    problems.add(doc, label, ['kind'], {
      code: 'DVM_SCHEMA_INVALID',
      message: 'missing required field "kind"',
      fix: 'Add `kind: KIND`; `dvm api-resources` lists the kinds.',
    });
  }
  if (typeof raw.apiVersion !== 'string' || raw.apiVersion === '') {
    problems.add(doc, label, ['apiVersion'], {
      code: 'DVM_SCHEMA_INVALID',
      message: 'missing required field "apiVersion"',
      fix: 'Add `apiVersion: devopsmaestro.io/v1`.',
    });
  }
  const metadata = raw.metadata as Record<string, unknown> | undefined;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    problems.add(doc, label, ['metadata'], {
      code: 'DVM_SCHEMA_INVALID',
      message: 'missing required field "metadata" (an object with a name)',
      fix: 'Add `metadata: {name: NAME}`.',
    });
  } else if (typeof metadata.name !== 'string' || metadata.name === '') {
    problems.add(doc, label, ['metadata', 'name'], {
      code: 'DVM_SCHEMA_INVALID',
      message: 'missing required field "name"',
      fix: 'Add `metadata.name`.',
    });
  }
  if (problems.size > before) return undefined;
  const info = kinds.get(raw.kind as string);
  if (!info) {
    const suggestion = didYouMean(
      raw.kind as string,
      kinds.all().map((k) => k.kind),
    );
    problems.add(doc, label, ['kind'], {
      code: 'DVM_KIND_UNKNOWN',
      message: `unknown kind "${String(raw.kind)}"${suggestion}`,
      fix: 'Run `dvm api-resources` to list the kinds; a user-defined kind needs its ResourceDefinition applied first or in the same batch.',
    });
    return undefined;
  }
  if (raw.apiVersion !== info.apiVersion) {
    problems.add(doc, label, ['apiVersion'], {
      code: 'DVM_API_VERSION',
      message: `${info.kind} is served as apiVersion ${info.apiVersion}, not "${String(raw.apiVersion)}"`,
      fix: `Set \`apiVersion: ${info.apiVersion}\`.`,
    });
    return undefined;
  }
  const meta = { ...(metadata as Record<string, unknown>) };
  if (meta.project !== undefined) {
    if (meta.domain !== undefined && meta.domain !== meta.project) {
      problems.add(doc, label, ['metadata', 'project'], {
        code: 'DVM_SCHEMA_INVALID',
        message: 'metadata.project and metadata.domain name different domains',
        fix: 'Keep only metadata.domain (project is its legacy name).',
      });
      return undefined;
    }
    warnings.push(`${doc.file}: ${label}: metadata.project is deprecated; use metadata.domain`);
    meta.domain = meta.project;
    delete meta.project;
  }
  const inputResourceVersion = meta.resourceVersion === undefined ? undefined : String(meta.resourceVersion);
  for (const field of SYSTEM_FIELDS) delete meta[field];
  const object = { ...raw, metadata: meta } as ResourceObject;
  resolveSourcePath(object, doc);
  return { info, object, inputResourceVersion };
}
