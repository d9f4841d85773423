// The execution-engine benchmarks of bench/run.ts: `dvm run workflow` of a 1,000-task /bin/true fan-out against
// a bare Node DAG runner (baseline-spawn.ts) and `make -j`, the makespan of a sleep DAG against its critical
// path, and the peak RSS of a 10,000-task run. Applying the objects is setup, never part of a measurement.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSpawnerKind } from '../src/actions/spawner/spawn-pool.ts';
import { type DagNode, fanOutDag, makefile, makespanDag } from './dags.ts';
import { RUN_SCOPE, runYaml, workflowObjects } from './generate-runs.ts';
import { DVM, freshDir, median, NODE, OUT, peakRssMb, runCommand, timeProcess } from './measure.ts';

/** One line of the results table: a median of the subject against a baseline, and the target it must meet. */
export interface Row {
  name: string;
  subject: number;
  baseline: number;
  unit: 'ms' | 'MB' | 'req/s' | 'count';
  /** Most subject/baseline may be. */
  maxRatio?: number;
  /** Least subject/baseline must be (throughput). */
  minRatio?: number;
  /** The value the subject must equal (correctness counts under load). */
  exact?: number;
  /** Most the subject may be, in `unit` (only for measures a noisy machine does not move, like memory). */
  maxValue?: number;
  /** An absolute limit from the issue, printed for information only (never asserted: the machine is shared). */
  infoLimitMs?: number;
  /** Context printed after the result (never asserted). */
  note?: string;
}

const FANOUT_TASKS = 1000;
const FANOUT_PARALLELISM = '2';
const MAKESPAN_PARALLELISM = '16';
const RSS_TASKS = 10_000;
const RSS_PARALLELISM = '4';
const RUN_RUNS = Number(process.env.BENCH_RUN_RUNS ?? 5);
const MAKESPAN_RUNS = Number(process.env.BENCH_MAKESPAN_RUNS ?? 5);
const BASELINE_SPAWN = join(import.meta.dirname, 'baseline-spawn.ts');
const SCOPE = ['-e', RUN_SCOPE.ecosystem, '-d', RUN_SCOPE.domain];

/** A fresh DVM_HOME with the objects of `dag` applied as Workflow `workflow` (setup: not measured). */
function applied(name: string, workflow: string, dag: readonly DagNode[]): string {
  const home = freshDir(name);
  const file = join(OUT, `${name}.yaml`);
  writeFileSync(file, runYaml(workflowObjects(workflow, dag)));
  timeProcess([DVM, 'apply', '-f', file], { DVM_HOME: home });
  return home;
}

function runArgs(workflow: string, parallelism: string): string[] {
  return [DVM, 'run', 'workflow', workflow, '-p', parallelism, ...SCOPE];
}

// The root run's id, from the `run ID: workflow/NAME` line dvm run writes to stderr.
function runId(stderr: string): string {
  const id = /^run (\S+):/m.exec(stderr)?.[1];
  if (!id) throw new Error(`no run id in the output of dvm run:\n${stderr}`);
  return id;
}

type RootTimes = { durationMs: number; startedAt: string; finishedAt: string };

// The times of a root run record (`dvm status run ID -o json`): durationMs is the run without dvm's start-up and exit.
function rootTimes(home: string, id: string): RootTimes {
  const out = spawnSync(NODE, [DVM, 'status', 'run', id, '-o', 'json'], {
    env: { ...process.env, DVM_HOME: home },
    encoding: 'utf8',
  });
  const items = (JSON.parse(out.stdout) as { items: ({ id: string } & Partial<RootTimes>)[] }).items;
  const root = items.find((r) => r.id === id);
  if (root?.durationMs === undefined)
    throw new Error(`run ${id} has no durationMs:\n${out.stdout}${out.stderr}`);
  return root as RootTimes;
}

/** Runs the three engine benchmarks; returns their table rows and raw samples. */
export async function engineBenchmarks(): Promise<{ rows: Row[]; samples: Record<string, number[]> }> {
  // 1. 1,000 /bin/true tasks, fan-out/fan-in, -p 2: dvm run vs baseline-spawn.ts vs make -j2.
  const fan = fanOutDag(FANOUT_TASKS);
  const makeFile = join(OUT, 'fanout.mk');
  writeFileSync(makeFile, makefile(fan));
  const dvmTimes: number[] = [];
  const spawnTimes: number[] = [];
  const makeTimes: number[] = [];
  // The same run with the Node helpers instead of dvm-spawn (the fallback without a C compiler), for the report.
  const spawner = defaultSpawnerKind();
  const nodeHelperTimes: number[] = [];
  // One unmeasured round warms the compile and page caches; each round runs in a freshly applied store.
  for (let i = -1; i < RUN_RUNS; i++) {
    const home = applied('run-home', 'fanout', fan);
    const dvm = timeProcess(runArgs('fanout', FANOUT_PARALLELISM), { DVM_HOME: home });
    const bare = timeProcess([BASELINE_SPAWN, 'fanout', String(FANOUT_TASKS), FANOUT_PARALLELISM]);
    const make = runCommand('make', ['-s', `-j${FANOUT_PARALLELISM}`, '-f', makeFile]).ms;
    const nodeHelpers =
      spawner === 'native'
        ? timeProcess(runArgs('fanout', FANOUT_PARALLELISM), {
            DVM_HOME: applied('run-home', 'fanout', fan),
            DVM_SPAWNER: 'node',
          })
        : undefined;
    if (i < 0) continue;
    if (nodeHelpers !== undefined) nodeHelperTimes.push(nodeHelpers);
    dvmTimes.push(dvm);
    spawnTimes.push(bare);
    makeTimes.push(make);
  }

  // 2. Makespan of a sleep DAG at -p 16 against its critical path: wall time, and the root record's durationMs.
  const { nodes, criticalPathMs } = makespanDag();
  const makespanHome = applied('makespan-home', 'makespan', nodes);
  const wallTimes: number[] = [];
  const recordTimes: number[] = [];
  // Where the rest of the wall time goes: process start to the root's startedAt, its finishedAt to exit.
  const startupTimes: number[] = [];
  const exitTimes: number[] = [];
  for (let i = 0; i < MAKESPAN_RUNS; i++) {
    const { ms, startedAt, stderr } = runCommand(NODE, runArgs('makespan', MAKESPAN_PARALLELISM), {
      DVM_HOME: makespanHome,
    });
    const root = rootTimes(makespanHome, runId(stderr));
    wallTimes.push(ms);
    recordTimes.push(root.durationMs);
    startupTimes.push(Date.parse(root.startedAt) - startedAt);
    exitTimes.push(startedAt + ms - Date.parse(root.finishedAt));
  }

  // 3. Peak RSS of a 10,000-task run (-p 4); the bare runner's, for comparison.
  const rssHome = applied('rss-home', 'fanout', fanOutDag(RSS_TASKS));
  const rssMb = await peakRssMb(runArgs('fanout', RSS_PARALLELISM), { DVM_HOME: rssHome });
  const bareRssMb = await peakRssMb([BASELINE_SPAWN, 'fanout', String(RSS_TASKS), RSS_PARALLELISM]);

  const runName = `run workflow (${FANOUT_TASKS} /bin/true, -p ${FANOUT_PARALLELISM})`;
  const rows: Row[] = [
    {
      name: `${runName} vs baseline-spawn.ts`,
      subject: median(dvmTimes),
      baseline: median(spawnTimes),
      unit: 'ms',
      maxRatio: 1.25,
    },
    {
      name: `${runName} vs make -j${FANOUT_PARALLELISM}`,
      subject: median(dvmTimes),
      baseline: median(makeTimes),
      unit: 'ms',
      maxRatio: 3,
      note: [
        `baseline-spawn.ts itself: ${(median(spawnTimes) / median(makeTimes)).toFixed(2)}× make`,
        spawner === 'native'
          ? `dvm-spawn; with DVM_SPAWNER=node ${Math.round(median(nodeHelperTimes))} ms, ${(median(nodeHelperTimes) / median(makeTimes)).toFixed(2)}×`
          : 'Node helpers: dvm-spawn is not built',
      ].join('; '),
    },
    {
      name: `run makespan DAG (-p ${MAKESPAN_PARALLELISM}), wall vs critical path`,
      subject: median(wallTimes),
      baseline: criticalPathMs,
      unit: 'ms',
      maxRatio: 1.05,
      note: `start-up to root start ${median(startupTimes).toFixed(0)} ms, root end to exit ${median(exitTimes).toFixed(0)} ms`,
    },
    {
      name: 'run makespan DAG, root durationMs vs critical path',
      subject: median(recordTimes),
      baseline: criticalPathMs,
      unit: 'ms',
      maxRatio: 1.05,
    },
    {
      name: `run workflow (${RSS_TASKS} tasks, -p ${RSS_PARALLELISM}) peak RSS vs baseline-spawn.ts`,
      subject: rssMb,
      baseline: bareRssMb,
      unit: 'MB',
      maxValue: 300,
    },
  ];
  return {
    rows,
    samples: {
      dvmTimes,
      spawnTimes,
      makeTimes,
      wallTimes,
      recordTimes,
      startupTimes,
      exitTimes,
      rssMb: [rssMb, bareRssMb],
    },
  };
}
