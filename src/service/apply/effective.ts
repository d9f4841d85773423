import type { ResourceObject } from '../../model/api.ts';
import { mergeUnder } from '../../model/effective.ts';
import type { View } from '../view.ts';
import { labelOf, type Pending, type ProblemList } from './pending.ts';

/**
 * Computes a pending object's effective form: its own spec, over its Template's defaults, over (for Apps) its
 * Domain's `spec.defaults`. Records where each inherited field came from and the edge to the template.
 */
export async function computeEffective(pending: Pending, view: View, problems: ProblemList): Promise<void> {
  const { object, placement } = pending;
  const label = labelOf(object);
  const provenance: Record<string, string> = {};
  let spec = object.spec as unknown;
  const templateName = typeof object.spec?.template === 'string' ? object.spec.template : undefined;
  if (templateName) {
    const template = await view.find('Template', {}, templateName);
    const templateSpec = (template?.effective.spec ?? {}) as Record<string, unknown>;
    if (!template) {
      problems.add(pending.doc, label, ['spec', 'template'], {
        code: 'DVM_REF_NOT_FOUND',
        message: `Template "${templateName}" not found`,
        fix: 'Apply the Template first or in the same batch, or correct the name.',
      });
    } else if (templateSpec.targetKind !== object.kind) {
      problems.add(pending.doc, label, ['spec', 'template'], {
        code: 'DVM_TEMPLATE_MISMATCH',
        message: `Template "${templateName}" is for ${String(templateSpec.targetKind)}, not ${object.kind}`,
        fix: `Use a Template whose targetKind is ${object.kind}.`,
      });
    } else {
      spec = mergeUnder(spec ?? {}, templateSpec.defaults ?? {}, `Template/${templateName}`, provenance);
      pending.refs.push({ toKey: template.key, path: 'spec.template' });
    }
  }
  if (object.kind === 'App' && placement.domain !== undefined) {
    const domain = await view.find('Domain', { ecosystem: placement.ecosystem }, placement.domain);
    const defaults = (domain?.effective.spec as Record<string, unknown> | undefined)?.defaults;
    if (defaults && typeof defaults === 'object') {
      spec = mergeUnder(spec ?? {}, defaults, `Domain/${placement.domain} (spec.defaults)`, provenance);
    }
  }
  const { name, ...rest } = structuredClone(object.metadata);
  const effective: ResourceObject = { ...structuredClone(object), metadata: { name, ...placement, ...rest } };
  if (spec !== undefined) effective.spec = structuredClone(spec) as Record<string, unknown>;
  pending.effective = effective;
  pending.provenance = provenance;
}
