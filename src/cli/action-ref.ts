import { DvmError } from '../errors/dvm-error.ts';
import { didYouMean } from '../model/suggest.ts';

/** `NAME` or `NAME@VERSION` (as dvm prints an action, `system.info@1.0.0`): the name and, when given, the version. */
export function splitActionRef(ref: string): { name: string; version?: string } {
  const at = ref.lastIndexOf('@');
  if (at <= 0) return { name: ref };
  return { name: ref.slice(0, at), version: ref.slice(at + 1) };
}

/**
 * The entry of an agent's catalog that `ref` names: its version when `NAME@VERSION`, else the latest; an unknown
 * name or version is DVM_ACTION_UNKNOWN saying what there is, as the registry says it in-process.
 */
export function catalogEntry<Entry extends { name: string; version: string }>(
  catalog: readonly Entry[],
  ref: string,
): Entry {
  const { name, version } = splitActionRef(ref);
  const versions = catalog.filter((entry) => entry.name === name);
  if (versions.length === 0) {
    throw new DvmError(
      'DVM_ACTION_UNKNOWN',
      `no action is named "${name}"${didYouMean(
        name,
        catalog.map((entry) => entry.name),
      )}`,
      { fix: 'Run `dvm action list` to see the actions.', details: { action: name } },
    );
  }
  if (version === undefined) return versions[versions.length - 1];
  const found = versions.find((entry) => entry.version === version);
  if (!found) {
    const known = versions.map((entry) => entry.version);
    throw new DvmError(
      'DVM_ACTION_UNKNOWN',
      `action "${name}" has no version ${version}${didYouMean(version, known)}`,
      {
        fix: `Use one of its versions (${known.join(', ')}) as ${name}@VERSION, or leave the version out for the latest.`,
        details: { action: name, version },
      },
    );
  }
  return found;
}
