import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseYamlSource } from '../model/yaml-source.ts';
import type { Store } from '../store/store.ts';
import { applyDocuments } from './apply/apply.ts';
import { openPlatform } from './platform.ts';
import { View } from './view.ts';

const OBJECTS = `
apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: e}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: d, ecosystem: e}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: other, ecosystem: e}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: build, ecosystem: e, domain: d}
spec: {command: [/bin/true]}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: build, ecosystem: e, domain: other}
spec: {command: [/bin/false]}
`;

test('Tasks loaded under a placement answer lookups there without queries; elsewhere the store is asked', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'dvm-view-'));
  const platform = await openPlatform(home);
  t.after(async () => {
    await platform.store.close();
    rmSync(home, { recursive: true, force: true });
  });
  await applyDocuments(platform, parseYamlSource(OBJECTS, 'objects.yaml').documents);
  // The real store, with its reads counted.
  const calls: string[] = [];
  const counted = new Proxy(platform.store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== 'get' && key !== 'list') return value;
      return (...args: unknown[]) => {
        calls.push(String(key));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as Store;
  const view = new View(counted);
  await view.preloadUnder('Task', { ecosystem: 'e', domain: 'd' });
  assert.deepEqual(calls, ['list']);
  const found = await view.find('Task', { ecosystem: 'e', domain: 'd' }, 'build');
  assert.deepEqual((found?.effective.spec as { command?: string[] } | undefined)?.command, ['/bin/true']);
  assert.equal(await view.find('Task', { ecosystem: 'e', domain: 'd' }, 'missing'), undefined);
  assert.equal((await view.findAll('Task', 'build', { ecosystem: 'e', domain: 'd' })).length, 1);
  assert.deepEqual(calls, ['list'], 'no query under the loaded placement');
  const elsewhere = await view.find('Task', { ecosystem: 'e', domain: 'other' }, 'build');
  assert.deepEqual((elsewhere?.effective.spec as { command?: string[] } | undefined)?.command, [
    '/bin/false',
  ]);
  assert.equal(
    (await view.findAll('Task', 'build', { ecosystem: 'e' })).length,
    2,
    'a wider prefix is queried',
  );
  assert.deepEqual(calls, ['list', 'get', 'list']);
});
