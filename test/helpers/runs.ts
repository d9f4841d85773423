import assert from 'node:assert/strict';
import { dvmOk } from './dvm.ts';

/** The YAML of Ecosystem `lab` with its Domain `ci`, which most run tests place their objects in. */
export const LAB_CI = `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: ci, ecosystem: lab}
`;

/** The id of the run that `dvm run` announced on stderr (`run ID: …`); fails the test without one. */
export function runIdOf(stderr: string): string {
  const match = stderr.match(/^run (r\S+):/m);
  assert.ok(match, stderr);
  return match[1];
}

/** The records of a run (`dvm status run ID -o json`) by node path, like `workflow/task`. */
export function runTree<Run extends { node: string }>(home: string, id: string): Map<string, Run> {
  const items = JSON.parse(dvmOk(home, ['status', 'run', id, '-o', 'json']).stdout).items as Run[];
  return new Map(items.map((r) => [r.node, r]));
}
