import { DvmError } from '../../errors/dvm-error.ts';
import { API_VERSION, placementFieldsOf, type ResourceObject } from '../../model/api.ts';
import type { KindInfo } from '../../model/catalog.ts';
import type { StoredObject } from '../../store/store.ts';
import type { CommandIo } from '../io.ts';
import { cellAt, formatAge, renderTable } from './table.ts';

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

/** Prints objects of one or more kinds in the chosen format. */
export async function printObjects(
  io: CommandIo,
  groups: [KindInfo, StoredObject[]][],
  options: PrintOptions,
): Promise<void> {
  const all = groups.flatMap(([, objects]) => objects);
  const { format } = options;
  if (format === 'name') {
    for (const [info, objects] of groups)
      for (const o of objects) io.stdout.write(`${info.singular}/${o.name}\n`);
    return;
  }
  if (format === 'json' || format === 'yaml') {
    const items = all.map((o) => printable(o, options.effective));
    const value =
      options.single && items.length === 1 ? items[0] : { apiVersion: API_VERSION, kind: 'List', items };
    io.stdout.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : await yamlText(value));
    return;
  }
  const nonEmpty = groups.filter(([, objects]) => objects.length > 0);
  const prefixed = nonEmpty.length > 1;
  nonEmpty.forEach(([info, objects], i) => {
    if (i > 0) io.stdout.write('\n');
    const parents = placementFieldsOf(info.scope).filter((f) => options.parentColumns.includes(f));
    const columns = info.columns.filter((c) => format === 'wide' || !c.wide);
    const headers = ['NAME', ...parents.map((p) => p.toUpperCase()), ...columns.map((c) => c.header), 'AGE'];
    const rows = objects.map((o) => [
      prefixed ? `${info.singular}/${o.name}` : o.name,
      ...parents.map((p) => o.placement[p] ?? '<none>'),
      ...columns.map((c) => cellAt(o.effective, c.path)),
      formatAge(o.createdAt),
    ]);
    io.stdout.write(renderTable(headers, rows));
  });
}
