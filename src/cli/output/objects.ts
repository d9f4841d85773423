import { DvmError } from '../../errors/dvm-error.ts';
import { API_VERSION, placementFieldsOf, type ResourceObject } from '../../model/api.ts';
import type { KindInfo } from '../../model/catalog.ts';
import type { ObjectSummary, StoredObject } from '../../store/store.ts';
import type { CommandIo } from '../io.ts';
import { formatAge, formatCell, renderTable, valueAt } from './table.ts';

/** The output formats of -o. */
export const OUTPUT_FORMATS = ['table', 'wide', 'yaml', 'json', 'name'] as const;

/** One output format. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Checks an -o value. */
export function outputFormat(value: string | undefined): OutputFormat {
  const format = (value ?? 'table') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) {
    throw new DvmError('DVM_USAGE', `unknown output format "${value}"`, {
      fix: `Use -o ${OUTPUT_FORMATS.join('|')}.`,
    });
  }
  return format;
}

/** Options for printing objects. */
export interface PrintOptions {
  format: OutputFormat;
  /** Print the effective form (templates and defaults merged) instead of the object as applied. */
  effective?: boolean;
  /** Parent fields that vary in the listing, shown as columns. */
  parentColumns: string[];
  /** A single object was asked for by name (yaml/json print it bare, not as a List). */
  single: boolean;
}

/** The object as it is printed by -o yaml/json. */
export function printable(object: StoredObject, effective = false): ResourceObject {
  return effective ? object.effective : object.applied;
}

async function yamlText(value: unknown): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(value, { lineWidth: 0 });
}

/** The effective-form paths a table of this kind shows (its printer columns, without the `#` count marker). */
export function columnPaths(info: KindInfo, format: OutputFormat): string[] {
  return info.columns.filter((c) => format === 'wide' || !c.wide).map((c) => c.path.replace(/#$/, ''));
}

/** A stored object reduced to what its table row shows. */
export function summaryOf(object: StoredObject, paths: string[]): ObjectSummary {
  const values: Record<string, unknown> = {};
  for (const path of paths) values[path] = valueAt(object.effective, path);
  return {
    uid: object.uid,
    kind: object.kind,
    name: object.name,
    placement: object.placement,
    createdAt: object.createdAt,
    values,
  };
}

/** Prints whole objects as YAML or JSON: one bare object when one was asked for by name, else a List. */
export async function printDocuments(
  io: CommandIo,
  objects: StoredObject[],
  options: PrintOptions,
): Promise<void> {
  const items = objects.map((o) => printable(o, options.effective));
  const value =
    options.single && items.length === 1 ? items[0] : { apiVersion: API_VERSION, kind: 'List', items };
  io.stdout.write(options.format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : await yamlText(value));
}

/** Prints objects of one or more kinds as tables (one per kind) or as `kind/name` lines. */
export function printRows(io: CommandIo, groups: [KindInfo, ObjectSummary[]][], options: PrintOptions): void {
  const { format } = options;
  if (format === 'name') {
    for (const [info, objects] of groups)
      for (const o of objects) io.stdout.write(`${info.singular}/${o.name}\n`);
    return;
  }
  const nonEmpty = groups.filter(([, objects]) => objects.length > 0);
  const prefixed = nonEmpty.length > 1;
  const now = new Date();
  nonEmpty.forEach(([info, objects], i) => {
    if (i > 0) io.stdout.write('\n');
    const parents = placementFieldsOf(info.scope).filter((f) => options.parentColumns.includes(f));
    const columns = info.columns.filter((c) => format === 'wide' || !c.wide);
    const headers = ['NAME', ...parents.map((p) => p.toUpperCase()), ...columns.map((c) => c.header), 'AGE'];
    const rows = objects.map((o) => [
      prefixed ? `${info.singular}/${o.name}` : o.name,
      ...parents.map((p) => o.placement[p] ?? '<none>'),
      ...columns.map((c) => formatCell(o.values[c.path.replace(/#$/, '')], c.path.endsWith('#'))),
      formatAge(o.createdAt, now),
    ]);
    io.stdout.write(renderTable(headers, rows));
  });
}
