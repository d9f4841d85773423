import { KindRegistry, kindFromDefinition } from '../model/kind-registry.ts';
import type { RunStore } from '../store/runs.ts';
import { openSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { storePath } from './home.ts';

/** An open dvm: its store and the kinds it knows (built-in plus ResourceDefinitions in the store). */
export interface Platform {
  home: string;
  store: Store;
  /** Run records and the task cache (same database). */
  runs: RunStore;
  kinds: KindRegistry;
}

/** Opens the platform in a dvm home, creating the store if needed. */
export async function openPlatform(home: string): Promise<Platform> {
  const store = openSqliteStore(storePath(home));
  return { home, store, runs: store.runStore(), kinds: await loadKinds(store) };
}

/** Built-in kinds plus every kind registered by a ResourceDefinition in the store. */
export async function loadKinds(store: Store): Promise<KindRegistry> {
  const registry = new KindRegistry();
  for (const definition of await store.list({ kinds: ['ResourceDefinition'] })) {
    registry.add(kindFromDefinition(definition.effective));
  }
  return registry;
}
