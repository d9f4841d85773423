// Runs the benchmarks of the performance issue and checks their targets as ratios against baselines measured
// in the same run (machines are shared and noisy, so no target is an absolute time; only the peak-RSS limit is
// absolute, as memory does not depend on the load). Every measurement is a whole process (spawn to exit, wall
// time); baseline and subject runs are interleaved and the median is taken.
// Usage: node bench/run.ts   (env BENCH_APPLY_RUNS, BENCH_GET_RUNS, BENCH_RUN_RUNS, BENCH_MAKESPAN_RUNS override
// the repetitions). The execution-engine benchmarks are in engine.ts.
// Scratch files (the generated YAML, stores, results.json) go to bench/.out/, which git ignores.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { agentBenchmarks } from './agent.ts';
import { dataBenchmarks } from './data.ts';
import { depsBenchmarks } from './deps.ts';
import { engineBenchmarks, type Row } from './engine.ts';
import { generateObjects, toYaml } from './generate.ts';
import { DVM, freshDir, median, NODE, OUT, timeProcess } from './measure.ts';

const OBJECTS = 10_000;
const SEED = 20240601;
const APPLY_RUNS = Number(process.env.BENCH_APPLY_RUNS ?? 5);
const GET_RUNS = Number(process.env.BENCH_GET_RUNS ?? 15);

function countRows(db: string): number {
  const handle = new DatabaseSync(db, { readOnly: true });
  try {
    return Number((handle.prepare('SELECT COUNT(*) AS n FROM objects').get() as { n: number }).n);
  } finally {
    handle.close();
  }
}

async function storeBenchmarks(): Promise<{ rows: Row[]; samples: Record<string, number[]> }> {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, 'objects.yaml');
  const objects = generateObjects(OBJECTS, SEED);
  writeFileSync(file, toYaml(objects));

  // 1. apply -f of one 10,000-object file into an empty store, against parse + raw inserts.
  const applyTimes: number[] = [];
  const baselineTimes: number[] = [];
  let home = '';
  // One unmeasured run of each fills the compile cache and the page cache.
  for (let i = -1; i < APPLY_RUNS; i++) {
    home = freshDir('home');
    const applied = timeProcess([DVM, 'apply', '-f', file], { DVM_HOME: home });
    const base = join(freshDir('baseline'), 'baseline.db');
    const baseline = timeProcess([join(import.meta.dirname, 'baseline-apply.ts'), file, base]);
    if (i >= 0) {
      applyTimes.push(applied);
      baselineTimes.push(baseline);
    }
  }
  const stored = countRows(join(home, 'dvm.db'));
  if (stored !== OBJECTS) throw new Error(`dvm apply stored ${stored} objects, expected ${OBJECTS}`);

  // 2. cold `dvm get apps -A` on that store, against the start-up of `node -e 0`.
  const listed = spawnSync(NODE, [DVM, 'get', 'apps', '-A'], {
    env: { ...process.env, DVM_HOME: home },
    encoding: 'utf8',
  });
  const apps = objects.filter((o) => o.kind === 'App').length;
  if (listed.stdout.trimEnd().split('\n').length !== apps + 1) {
    throw new Error(`dvm get apps -A did not list the ${apps} apps:\n${listed.stderr}`);
  }
  const getTimes: number[] = [];
  const nodeTimes: number[] = [];
  for (let i = -2; i < GET_RUNS; i++) {
    const got = timeProcess([DVM, 'get', 'apps', '-A'], { DVM_HOME: home });
    const bare = timeProcess(['-e', '0']);
    if (i >= 0) {
      getTimes.push(got);
      nodeTimes.push(bare);
    }
  }

  const rows: Row[] = [
    {
      name: `apply -f (${OBJECTS} objects) vs yaml+sqlite`,
      subject: median(applyTimes),
      baseline: median(baselineTimes),
      unit: 'ms',
      maxRatio: 3,
      infoLimitMs: 5000,
    },
    {
      name: 'get apps -A (cold) vs node -e 0',
      subject: median(getTimes),
      baseline: median(nodeTimes),
      unit: 'ms',
      maxRatio: 3,
    },
  ];
  return { rows, samples: { applyTimes, baselineTimes, getTimes, nodeTimes } };
}

// `npm run bench -- store engine agent data deps` runs only those groups (all by default).
const GROUPS = process.argv.slice(2);
const want = (group: string) => GROUPS.length === 0 || GROUPS.includes(group);

async function main(): Promise<number> {
  mkdirSync(OUT, { recursive: true });
  const rows: Row[] = [];
  let samples: Record<string, unknown> = {};
  if (want('store')) {
    const store = await storeBenchmarks();
    rows.push(...store.rows);
    samples = { ...samples, ...store.samples };
  }
  if (want('engine')) {
    const engine = await engineBenchmarks();
    rows.push(...engine.rows);
    samples = { ...samples, ...engine.samples };
  }
  if (want('agent')) rows.push(...(await agentBenchmarks()));
  if (want('data')) rows.push(...(await dataBenchmarks()));
  if (want('deps')) rows.push(...(await depsBenchmarks()));
  const results = rows.map((r) => ({
    ...r,
    ratio: r.subject / r.baseline,
    pass:
      (r.maxRatio === undefined || r.subject / r.baseline <= r.maxRatio) &&
      (r.minRatio === undefined || r.subject / r.baseline >= r.minRatio) &&
      (r.exact === undefined || r.subject === r.exact) &&
      (r.maxValue === undefined || r.subject <= r.maxValue),
  }));
  writeFileSync(
    join(OUT, 'results.json'),
    `${JSON.stringify({ node: process.version, results, samples }, null, 2)}\n`,
  );

  const table = [['benchmark', 'median', 'baseline', 'ratio', 'target', 'result']];
  for (const r of results) {
    const info = r.infoLimitMs
      ? ` (info: ${r.subject <= r.infoLimitMs ? '≤' : '>'} ${r.infoLimitMs / 1000} s)`
      : '';
    table.push([
      r.name,
      `${r.subject.toFixed(0)} ${r.unit}`,
      `${r.baseline.toFixed(0)} ${r.unit}`,
      Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : '—',
      r.exact !== undefined
        ? `= ${r.exact}`
        : r.minRatio !== undefined
          ? `≥ ${r.minRatio}×`
          : r.maxValue !== undefined
            ? `≤ ${r.maxValue} ${r.unit}`
            : r.maxRatio !== undefined
              ? `≤ ${r.maxRatio}×`
              : 'report',
      `${r.pass ? 'ok' : 'MISSED'}${info}${r.note ? ` (${r.note})` : ''}`,
    ]);
  }
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  console.log(
    `node ${process.version}; ${APPLY_RUNS} apply runs, ${GET_RUNS} get runs; samples in bench/.out/results.json`,
  );
  return results.every((r) => r.pass) ? 0 : 1;
}

if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`bench needs Node 24 (this is ${process.version}); run it with npm run bench`);
  process.exitCode = 1;
} else {
  process.exitCode = await main();
}
