/** The API version every built-in kind is served under. */
export const API_VERSION = 'devopsmaestro.io/v1';

/** The group of built-in kinds. */
export const API_GROUP = 'devopsmaestro.io';

/** The levels an object can live in, outermost first; `Global` means no parent. */
export const SCOPE_LEVELS = ['Global', 'Ecosystem', 'Domain', 'App', 'Workspace'] as const;

/** Where an object of a kind lives: at global scope or inside an ecosystem, domain, app or workspace. */
export type ScopeLevel = (typeof SCOPE_LEVELS)[number];

/** The parent fields of an object's location, outermost first. */
export const PLACEMENT_FIELDS = ['ecosystem', 'domain', 'app', 'workspace'] as const;

/** One parent field of a location. */
export type PlacementField = (typeof PLACEMENT_FIELDS)[number];

/** The chain of parents an object lives in (only the fields its scope needs are set). */
export type Placement = Partial<Record<PlacementField, string>>;

/** Metadata every object carries; the system fields are set by the store. */
export interface ObjectMeta {
  name: string;
  description?: string;
  ecosystem?: string;
  domain?: string;
  app?: string;
  workspace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  creationTimestamp?: string;
  generation?: number;
  resourceVersion?: string;
  [field: string]: unknown;
}

/** A resource object as written in YAML: apiVersion, kind, metadata and (usually) spec. */
export interface ResourceObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

/** Number of parent fields an object of this scope has (Global 0 … Workspace 4). */
export function scopeDepth(scope: ScopeLevel): number {
  return SCOPE_LEVELS.indexOf(scope);
}

/** The parent fields an object of this scope must have, outermost first. */
export function placementFieldsOf(scope: ScopeLevel): PlacementField[] {
  return PLACEMENT_FIELDS.slice(0, scopeDepth(scope));
}

/** A stable identity string `Kind/eco/domain/app/workspace/name` for an object. */
export function objectKey(kind: string, placement: Placement, name: string): string {
  return [
    kind,
    placement.ecosystem ?? '',
    placement.domain ?? '',
    placement.app ?? '',
    placement.workspace ?? '',
    name,
  ].join('/');
}

/** Human form of a location, like `customer-platform/auth-domain`. */
export function placementLabel(placement: Placement): string {
  return PLACEMENT_FIELDS.map((f) => placement[f])
    .filter((v) => v !== undefined && v !== '')
    .join('/');
}

/** The parent fields of a record (metadata, a store row) that hold non-empty strings, as a placement. */
export function placementOf(record: Record<string, unknown>): Placement {
  const placement: Placement = {};
  for (const field of PLACEMENT_FIELDS) {
    const value = record[field];
    if (typeof value === 'string' && value !== '') placement[field] = value;
  }
  return placement;
}
