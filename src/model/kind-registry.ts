import { DvmError } from '../errors/dvm-error.ts';
import { type ResourceObject, SCOPE_LEVELS, type ScopeLevel } from './api.ts';
import { BUILTIN_KINDS, type KindInfo, type PrinterColumn } from './catalog.ts';
import { didYouMean } from './suggest.ts';

/** The version user-defined kinds are served under (`<group>/v1`). */
export const CUSTOM_KIND_VERSION = 'v1';

/** Maps a ResourceDefinition's `scope` (incl. the legacy `Project`) to a scope level. */
export function normalizeScope(scope: unknown): ScopeLevel {
  if (typeof scope !== 'string' || scope === '') return 'Global';
  const lower = scope.toLowerCase();
  if (lower === 'project') return 'Domain';
  return SCOPE_LEVELS.find((level) => level.toLowerCase() === lower) ?? 'Global';
}

/** The pattern of a kind name (PascalCase), as the ResourceDefinition schema requires. */
export const KIND_NAME_PATTERN = /^[A-Z][A-Za-z0-9]*$/;

/** The kind a ResourceDefinition object registers. */
export function kindFromDefinition(definition: ResourceObject): KindInfo {
  const spec = (definition.spec ?? {}) as Record<string, unknown>;
  const names = (spec.names ?? {}) as Record<string, unknown>;
  const kind = String(names.kind ?? '');
  const group = String(spec.group ?? '');
  const columns = Array.isArray(spec.additionalPrinterColumns)
    ? (spec.additionalPrinterColumns as PrinterColumn[])
    : [];
  return {
    kind,
    plural: String(names.plural ?? `${kind.toLowerCase()}s`),
    singular: String(names.singular ?? kind.toLowerCase()),
    shortNames: Array.isArray(names.shortNames) ? names.shortNames.map(String) : [],
    group,
    apiVersion: `${group}/${CUSTOM_KIND_VERSION}`,
    scope: normalizeScope(spec.scope),
    category: 'Custom',
    description: String(
      definition.metadata?.description ??
        `User-defined kind from ResourceDefinition/${definition.metadata?.name}.`,
    ),
    columns,
    builtin: false,
  };
}

/** Every kind dvm knows (built-in and user-defined) and the names a user may call them by. */
export class KindRegistry {
  private readonly byName = new Map<string, KindInfo>();
  private readonly byKind = new Map<string, KindInfo>();

  constructor(kinds: Iterable<KindInfo> = BUILTIN_KINDS) {
    for (const info of kinds) this.add(info);
  }

  /**
   * Registers a kind under its kind name, plural, singular and short names (case-insensitive). A user-defined
   * kind never takes over a name or kind of a built-in one.
   */
  add(info: KindInfo): void {
    if (!info.builtin && this.byKind.get(info.kind)?.builtin) return;
    this.byKind.set(info.kind, info);
    for (const name of [info.kind, info.plural, info.singular, ...info.shortNames]) {
      if (name && !(this.byName.get(name.toLowerCase())?.builtin && !info.builtin))
        this.byName.set(name.toLowerCase(), info);
    }
  }

  /** True when a name (any form) is taken. */
  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** The kind with this exact kind name (as in a YAML `kind:` field). */
  get(kind: string): KindInfo | undefined {
    return this.byKind.get(kind);
  }

  /** The kind a user typed (kind, plural, singular or short name; any case). */
  lookup(name: string): KindInfo | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Like lookup, but throws DVM_KIND_UNKNOWN with a suggestion. */
  require(name: string): KindInfo {
    const info = this.lookup(name);
    if (info) return info;
    throw new DvmError('DVM_KIND_UNKNOWN', `unknown kind "${name}"${didYouMean(name, this.byName.keys())}`, {
      fix: 'Run `dvm api-resources` to list every kind and its short names.',
    });
  }

  /** Every kind, built-in first. */
  all(): KindInfo[] {
    return [...this.byKind.values()];
  }
}
