import { aggregateError } from '../../errors/dvm-error.ts';
import { type Placement, placementOf } from '../../model/api.ts';
import type { SourceDocument } from '../../model/yaml-source.ts';
import type { StoredObject } from '../../store/store.ts';
import { resolvePlacement } from '../placement.ts';
import type { Platform } from '../platform.ts';
import { View } from '../view.ts';
import { labelOf, ProblemList, readDocument } from './pending.ts';

/** The stored objects that documents name (for `delete -f`); any that does not exist is DVM_NOT_FOUND. */
export async function placeDocuments(
  platform: Platform,
  docs: SourceDocument[],
  defaults: Placement,
): Promise<StoredObject[]> {
  const problems = new ProblemList();
  const view = new View(platform.store);
  const found: StoredObject[] = [];
  for (const doc of docs) {
    const read = readDocument(doc, platform.kinds, problems, []);
    if (!read) continue;
    const label = labelOf(read.object);
    const given = placementOf(read.object.metadata);
    const result = await resolvePlacement(view, read.info.kind, read.info.scope, given, defaults);
    if ('problem' in result) {
      problems.add(doc, label, result.problem.path?.split('.') ?? [], {
        code: result.problem.code,
        message: result.problem.message,
        fix: result.problem.fix,
      });
      continue;
    }
    const stored = await platform.store.get(read.info.kind, result.placement, read.object.metadata.name);
    if (stored) found.push(stored);
    else
      problems.add(doc, label, ['metadata', 'name'], {
        code: 'DVM_NOT_FOUND',
        message: `${label} does not exist`,
        fix: 'Check the name and scope, or remove the document from the file.',
      });
  }
  if (problems.size > 0) throw aggregateError(problems.causes, 'in the input');
  return found;
}
