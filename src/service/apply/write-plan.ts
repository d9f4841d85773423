import { randomUUID } from 'node:crypto';
import type { ResourceObject } from '../../model/api.ts';
import type { PutOperation, StoredObject } from '../../store/store.ts';
import { stableStringify } from '../stable-json.ts';
import type { ApplyMode, ApplyOutcome } from './apply.ts';
import { labelOf, type Pending, type ProblemList } from './pending.ts';

/** Records a conflict for a stale resourceVersion, and for `create` of an object that exists. */
export function checkVersion(pending: Pending, mode: ApplyMode, problems: ProblemList): void {
  const label = labelOf(pending.object);
  if (pending.existing && mode === 'create') {
    problems.add(pending.doc, label, ['metadata', 'name'], {
      code: 'DVM_ALREADY_EXISTS',
      message: `${label} already exists`,
      fix: 'Use `dvm apply -f` to change it, or choose another name.',
    });
  }
  const given = pending.inputResourceVersion;
  if (given !== undefined && pending.existing && given !== String(pending.existing.resourceVersion)) {
    problems.add(pending.doc, label, ['metadata', 'resourceVersion'], {
      code: 'DVM_CONFLICT',
      message: `${label} is at resourceVersion ${pending.existing.resourceVersion}, not ${given}: it changed since you read it`,
      fix: 'Get the object again (dvm get -o yaml), redo your change, and apply; or remove metadata.resourceVersion to overwrite.',
    });
  }
}

/** What to write for a pending object (nothing when it is unchanged) and the outcome to report. */
export function planWrite(
  pending: Pending,
  timestamp: string,
): { put?: PutOperation; action: ApplyOutcome['action'] } {
  const existing = pending.existing;
  const appliedSame =
    existing && stableStringify(withoutSystem(existing.applied)) === stableStringify(withPlacement(pending));
  const effectiveSame =
    existing &&
    stableStringify(withoutSystem(existing.effective)) === stableStringify(withoutSystem(pending.effective));
  if (existing && appliedSame && effectiveSame) return { action: 'unchanged' };
  const specChanged =
    !existing || stableStringify(existing.effective.spec) !== stableStringify(pending.effective.spec);
  const generation = existing ? existing.generation + (specChanged ? 1 : 0) : 1;
  const uid = existing?.uid ?? randomUUID();
  const createdAt = existing?.createdAt ?? timestamp;
  const system = { uid, creationTimestamp: createdAt, generation };
  const stored: StoredObject = {
    uid,
    kind: pending.info.kind,
    name: pending.object.metadata.name,
    placement: pending.placement,
    applied: { ...withPlacement(pending), metadata: { ...withPlacement(pending).metadata, ...system } },
    effective: { ...pending.effective, metadata: { ...pending.effective.metadata, ...system } },
    provenance: pending.provenance,
    generation,
    resourceVersion: 0,
    createdAt,
    updatedAt: timestamp,
  };
  return {
    put: { object: stored, expectedResourceVersion: existing?.resourceVersion ?? 0, refs: pending.refs },
    action: existing ? 'configured' : 'created',
  };
}

/** The object as applied, with its full location; metadata reads name, then location outermost first, then the rest. */
export function withPlacement(pending: Pending): ResourceObject {
  const { name, ...rest } = pending.object.metadata;
  return { ...pending.object, metadata: { name, ...pending.placement, ...rest } };
}

const SYSTEM_METADATA = new Set(['uid', 'creationTimestamp', 'generation', 'resourceVersion']);

/** The object without the metadata the store sets (uid, creationTimestamp, generation, resourceVersion). */
export function withoutSystem(object: ResourceObject): ResourceObject {
  return {
    ...object,
    metadata: Object.fromEntries(
      Object.entries(object.metadata).filter(([k]) => !SYSTEM_METADATA.has(k)),
    ) as ResourceObject['metadata'],
  };
}
