import { objectKey, PLACEMENT_FIELDS, type Placement, type ResourceObject } from '../model/api.ts';
import type { Store, StoredObject } from '../store/store.ts';

/** An object as seen while applying: from the batch being applied, or from the store. */
export interface ViewObject {
  kind: string;
  name: string;
  placement: Placement;
  effective: ResourceObject;
  key: string;
  stored?: StoredObject;
}

function matches(placement: Placement, prefix: Placement): boolean {
  return PLACEMENT_FIELDS.every((f) => prefix[f] === undefined || placement[f] === prefix[f]);
}

function fromStored(stored: StoredObject): ViewObject {
  return {
    kind: stored.kind,
    name: stored.name,
    placement: stored.placement,
    effective: stored.effective,
    key: objectKey(stored.kind, stored.placement, stored.name),
    stored,
  };
}

/** The store with a batch of pending objects laid over it; lookups see the batch first. */
export class View {
  private readonly store: Store;
  private readonly batch = new Map<string, ViewObject>();
  private readonly batchByKind = new Map<string, KindIndex>();
  private readonly storeByKind = new Map<string, KindIndex>();
  // Stored objects of a kind loaded under a placement (`preloadUnder`), each with that placement.
  private readonly storeUnder = new Map<string, { prefix: Placement; index: KindIndex }[]>();

  constructor(store: Store) {
    this.store = store;
  }

  /** Adds or replaces a pending object. */
  put(object: ViewObject): void {
    this.batch.set(object.key, object);
    let index = this.batchByKind.get(object.kind);
    if (!index) {
      index = new KindIndex();
      this.batchByKind.set(object.kind, index);
    }
    index.put(object);
  }

  /** The object with this exact identity, pending or stored. */
  async find(kind: string, placement: Placement, name: string): Promise<ViewObject | undefined> {
    const pending = this.batch.get(objectKey(kind, placement, name));
    if (pending) return pending;
    const loaded = this.storeByKind.get(kind);
    if (loaded) return loaded.named(name).find((o) => sameKeyPlacement(o.placement, placement));
    // Under a loaded placement every stored object is known: one that is not there does not exist.
    const under = this.storeUnder.get(kind)?.find((u) => matches(placement, u.prefix));
    if (under) return under.index.named(name).find((o) => sameKeyPlacement(o.placement, placement));
    const stored = await this.store.get(kind, placement, name);
    return stored ? fromStored(stored) : undefined;
  }

  /** Every object of a kind named `name` (any name when undefined) whose location starts with `prefix`. */
  async findAll(kind: string, name: string | undefined, prefix: Placement): Promise<ViewObject[]> {
    const found = new Map<string, ViewObject>();
    const loaded =
      this.storeByKind.get(kind) ?? this.storeUnder.get(kind)?.find((u) => matches(prefix, u.prefix))?.index;
    const stored = loaded
      ? loaded.named(name)
      : (await this.store.list({ kinds: [kind], name, placement: prefix })).map(fromStored);
    for (const o of stored) if (matches(o.placement, prefix)) found.set(o.key, o);
    for (const o of this.batchByKind.get(kind)?.named(name) ?? [])
      if (matches(o.placement, prefix)) found.set(o.key, o);
    return [...found.values()];
  }

  /**
   * Loads the stored objects of a kind at or below `prefix` with one query, so later lookups there need none
   * (a workflow's task references, resolved one by one, were a query each).
   */
  async preloadUnder(kind: string, prefix: Placement): Promise<void> {
    if (this.storeByKind.has(kind) || this.storeUnder.get(kind)?.some((u) => matches(prefix, u.prefix)))
      return;
    const index = new KindIndex();
    for (const stored of await this.store.list({ kinds: [kind], placement: prefix }))
      index.put(fromStored(stored));
    const scopes = this.storeUnder.get(kind) ?? [];
    scopes.push({ prefix, index });
    this.storeUnder.set(kind, scopes);
  }

  /** Loads every stored object of a kind once, so later lookups of that kind need no queries. */
  async preload(kind: string): Promise<void> {
    if (this.storeByKind.has(kind)) return;
    const index = new KindIndex();
    for (const stored of await this.store.list({ kinds: [kind] })) index.put(fromStored(stored));
    this.storeByKind.set(kind, index);
  }

  /** The pending objects, in the order they were first put. */
  pending(): ViewObject[] {
    return [...this.batch.values()];
  }
}

function sameKeyPlacement(a: Placement, b: Placement): boolean {
  return PLACEMENT_FIELDS.every((f) => (a[f] ?? '') === (b[f] ?? ''));
}

/** The objects of one kind, indexed by name. */
class KindIndex {
  private readonly byKey = new Map<string, ViewObject>();
  private readonly byName = new Map<string, Map<string, ViewObject>>();

  put(object: ViewObject): void {
    this.byKey.set(object.key, object);
    let named = this.byName.get(object.name);
    if (!named) {
      named = new Map();
      this.byName.set(object.name, named);
    }
    named.set(object.key, object);
  }

  /** Objects with this name, or all of them when the name is undefined. */
  named(name: string | undefined): ViewObject[] {
    if (name === undefined) return [...this.byKey.values()];
    return [...(this.byName.get(name)?.values() ?? [])];
  }
}
