import type { Placement, ResourceObject } from '../model/api.ts';

/** One object as the store keeps it: as applied, its effective form, and where inherited fields came from. */
export interface StoredObject {
  uid: string;
  kind: string;
  name: string;
  placement: Placement;
  applied: ResourceObject;
  effective: ResourceObject;
  /** JSON path of an inherited field → its source, like `Template/go-api-app`. */
  provenance: Record<string, string>;
  generation: number;
  resourceVersion: number;
  createdAt: string;
  updatedAt: string;
}

/** A filter for listing objects; unset fields match anything. */
export interface ObjectQuery {
  kinds?: string[];
  name?: string;
  /** Only objects whose location has these parent values (a prefix of the hierarchy). */
  placement?: Placement;
}

/** An object reduced to a few values of its effective form: what a table row needs. */
export interface ObjectSummary {
  uid: string;
  kind: string;
  name: string;
  placement: Placement;
  createdAt: string;
  /** Dotted path (as asked for) → the value at that path of the effective form, or undefined. */
  values: Record<string, unknown>;
}

/** A reference from one object to another, kept so deletes can find referrers. */
export interface RefEdge {
  /** `objectKey()` of the object referred to. */
  toKey: string;
  /** JSON path of the referring field. */
  path: string;
}

/** An object that refers to another one. */
export interface Referrer {
  uid: string;
  kind: string;
  name: string;
  placement: Placement;
  path: string;
  toKey: string;
}

/** An object to create or replace; `expectedResourceVersion` 0 means it must not exist yet. */
export interface PutOperation {
  object: StoredObject;
  expectedResourceVersion: number;
  refs: RefEdge[];
}

/** Changes applied together in one transaction: all or nothing. */
export interface WriteBatch {
  puts: PutOperation[];
  deletes: { uid: string; expectedResourceVersion: number }[];
}

/** The persistence interface of dvm; SQLite is the embedded implementation. */
export interface Store {
  /** Lists objects matching a query, ordered by kind, location and name. */
  list(query: ObjectQuery): Promise<StoredObject[]>;
  /**
   * Like list, but reads only the values at the given dotted paths of each effective form (plus
   * `metadata.labels`); tables use it, because reading and parsing whole objects is most of a listing's cost.
   */
  summarize(query: ObjectQuery, paths: string[]): Promise<ObjectSummary[]>;
  /** Reads one object by its exact identity. */
  get(kind: string, placement: Placement, name: string): Promise<StoredObject | undefined>;
  /** Every object that refers to one of the given object keys. */
  referrers(toKeys: string[]): Promise<Referrer[]>;
  /** Applies a batch atomically, assigning resource versions; a stale expected version is DVM_CONFLICT. */
  write(batch: WriteBatch): Promise<void>;
  /** A cheap fingerprint of the whole store (changes with every write). */
  fingerprint(): Promise<string>;
  /** Releases the store. */
  close(): Promise<void>;
}
