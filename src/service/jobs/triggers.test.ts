import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTriggers } from './triggers.ts';

const CASES: {
  name: string;
  trigger: unknown;
  manual: boolean;
  schedule?: string;
  commit: boolean;
  codes: string[];
}[] = [
  { name: 'no trigger: manual', trigger: undefined, manual: true, commit: false, codes: [] },
  { name: 'manual: true', trigger: { manual: true }, manual: true, commit: false, codes: [] },
  {
    name: 'manual wins over a schedule',
    trigger: { manual: true, schedule: '* * * * *' },
    manual: true,
    commit: false,
    codes: [],
  },
  {
    name: 'five-field schedule',
    trigger: { schedule: '0 * * * *' },
    manual: false,
    schedule: '0 * * * *',
    commit: false,
    codes: [],
  },
  {
    name: 'six-field schedule (seconds first)',
    trigger: { schedule: '*/1 * * * * *' },
    manual: false,
    schedule: '*/1 * * * * *',
    commit: false,
    codes: [],
  },
  {
    name: 'seven fields are refused',
    trigger: { schedule: '0 0 0 * * * 2030' },
    manual: false,
    commit: false,
    codes: ['DVM_CRON_INVALID'],
  },
  {
    name: 'a schedule no date matches (February 30) is refused: it would never fire',
    trigger: { schedule: '0 0 30 2 *' },
    manual: false,
    commit: false,
    codes: ['DVM_CRON_INVALID'],
  },
  {
    name: 'commit on app.path',
    trigger: { watch: 'app.path', event: 'commit' },
    manual: false,
    commit: true,
    codes: [],
  },
  { name: 'commit without watch', trigger: { event: 'commit' }, manual: false, commit: true, codes: [] },
  {
    name: 'schedule and commit together',
    trigger: { event: 'commit', schedule: '0 3 * * *' },
    manual: false,
    schedule: '0 3 * * *',
    commit: true,
    codes: [],
  },
  {
    name: 'unsupported event',
    trigger: { watch: 'app.path', event: 'unhealthy' },
    manual: false,
    commit: false,
    codes: ['DVM_TRIGGER_INVALID'],
  },
  {
    name: 'unsupported watch',
    trigger: { watch: 'app.config', event: 'commit' },
    manual: false,
    commit: false,
    codes: ['DVM_TRIGGER_INVALID'],
  },
  {
    name: 'watch without event',
    trigger: { watch: 'app.path' },
    manual: false,
    commit: false,
    codes: ['DVM_TRIGGER_INVALID'],
  },
];

for (const c of CASES) {
  test(`readTriggers: ${c.name}`, () => {
    const read = readTriggers({ runs: 'x', trigger: c.trigger });
    assert.equal(read.manual, c.manual);
    assert.equal(read.schedule, c.schedule);
    assert.equal(read.commit, c.commit);
    assert.deepEqual(
      read.problems.map((p) => p.code),
      c.codes,
    );
  });
}
