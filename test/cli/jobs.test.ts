import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { processRunning } from '../../src/actions/testing.ts';
import { DVM_BIN, dvm, dvmOk, tempDir, tempHome } from '../helpers/dvm.ts';
import { LAB_CI } from '../helpers/runs.ts';

interface Run {
  id: string;
  kind: string;
  name: string;
  status: string;
  trigger?: string;
  commit?: string;
  startedAt?: string;
  finishedAt?: string;
}

// Every serve started here is killed when the file ends, whatever happened.
const children: ChildProcess[] = [];
after(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** A running `dvm serve`: what it printed so far, waiting for a line, and stopping it. */
function serve(home: string, cwd: string) {
  const child = spawn(
    process.execPath,
    [DVM_BIN, 'serve', '--poll-interval', '200ms', '--listen', '127.0.0.1:0'],
    {
      cwd,
      env: { ...process.env, DVM_HOME: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => stdout,
    async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = stdout.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) break;
        await sleep(50);
      }
      assert.fail(
        `serve printed no ${pattern} within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
      );
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
      child.kill(signal);
      return exited;
    },
  };
}

function jobRuns(home: string, name: string): Run[] {
  const items = JSON.parse(dvmOk(home, ['get', 'runs', '-o', 'json']).stdout).items as Run[];
  return items.filter((r) => r.kind === 'Job' && r.name === name);
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function git(repo: string, args: string[]): string {
  return execFileSync(
    'git',
    ['-C', repo, '-c', 'user.name=dvm', '-c', 'user.email=dvm@example.com', ...args],
    {
      encoding: 'utf8',
    },
  ).trim();
}

// A new git repository, with an empty first commit or none yet.
function gitRepo({ firstCommit }: { firstCommit: boolean }): string {
  const repo = tempDir('dvm-repo-');
  git(repo, ['init', '-q']);
  if (firstCommit) git(repo, ['commit', '-q', '--allow-empty', '-m', 'first']);
  return repo;
}

// Ecosystem lab, Domain ci and App web at `repo` (the App a commit trigger of domain ci watches).
function webAppAt(repo: string): string {
  return `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: web, domain: ci}
spec: {path: ${repo}}
`;
}

test('a commit to the App repository runs the job there, recording trigger commit and the sha', async () => {
  const home = tempHome();
  const repo = gitRepo({ firstCommit: true });
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${webAppAt(repo)}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: mark, domain: ci}
spec:
  shell: git rev-parse HEAD > marker.txt
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: on-commit, domain: ci}
spec:
  runs: mark
  app: web
  trigger: {watch: app.path, event: commit}
`,
  });
  const server = serve(home, tempDir('dvm-cwd-'));
  await server.waitFor(/job lab\/ci\/on-commit armed: commits in .* \(HEAD [0-9a-f]{12}\)/);
  assert.deepEqual(jobRuns(home, 'on-commit'), [], 'the commit made before serve started does not fire');
  git(repo, ['commit', '-q', '--allow-empty', '-m', 'second']);
  const sha = git(repo, ['rev-parse', 'HEAD']);
  const run = await until('a Succeeded commit run', () =>
    jobRuns(home, 'on-commit').find((r) => r.status === 'Succeeded'),
  );
  assert.equal(run.trigger, 'commit');
  assert.equal(run.commit, sha);
  assert.equal(readFileSync(join(repo, 'marker.txt'), 'utf8').trim(), sha, 'the task ran in the App path');
  // Polling with the synchronous `dvm get` kept this process from reading serve's output meanwhile.
  await server.waitFor(new RegExp(`job lab/ci/on-commit fired: commit ${sha.slice(0, 12)}`));
  assert.equal(await server.stop(), 0);
  // A resume is of the same event at the same commit (as a GitHub re-run), whoever asks for it.
  dvmOk(home, ['run', '--resume', run.id]);
  const resumed = jobRuns(home, 'on-commit').find((r) => r.id !== run.id);
  assert.deepEqual([resumed?.trigger, resumed?.commit], ['commit', sha]);
});

test('a 6-field cron schedule fires every second', async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: noop, domain: ci}
spec:
  command: ["true"]
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: tick, domain: ci}
spec:
  runs: noop
  trigger: {schedule: "*/1 * * * * *"}
`,
  });
  const server = serve(home, tempDir('dvm-cwd-'));
  await server.waitFor(/job lab\/ci\/tick armed: schedule "\*\/1 \* \* \* \* \*"; concurrency queue/);
  const runs = await until(
    'two scheduled runs',
    () => {
      const done = jobRuns(home, 'tick').filter((r) => r.status === 'Succeeded');
      return done.length >= 2 ? done : undefined;
    },
    4000,
  );
  assert.ok(runs.every((r) => r.trigger === 'schedule'));
  assert.equal(await server.stop(), 0);
});

test('a Task with spec.schedule runs on its cron under dvm serve, through the agent like a Job, until its schedule is removed', async () => {
  const home = tempHome();
  const task = (schedule: string) => `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: info, domain: ci}
spec: {action: system.info${schedule}}
`;
  dvmOk(home, ['apply', '-f', '-'], { input: task(', schedule: "*/1 * * * * *"') });
  const server = serve(home, tempDir('dvm-cwd-'));
  await server.waitFor(/task lab\/ci\/info armed: schedule "\*\/1 \* \* \* \* \*"; concurrency queue/);
  await server.waitFor(/serve started \(pid \d+\): 0 job\(s\), 1 scheduled task\(s\), /);
  const taskRuns = () =>
    (JSON.parse(dvmOk(home, ['get', 'runs', '-o', 'json']).stdout).items as Run[]).filter(
      (r) => r.kind === 'Task' && r.name === 'info',
    );
  const runs = await until(
    'two scheduled runs of the task',
    () => {
      const done = taskRuns().filter((r) => r.status === 'Succeeded');
      return done.length >= 2 ? done : undefined;
    },
    5000,
  );
  assert.ok(runs.every((r) => r.trigger === 'schedule'));
  await server.waitFor(
    /task lab\/ci\/info run r\S+ started \(schedule\)\n[\s\S]*task lab\/ci\/info run r\S+ Succeeded/,
  );
  // Its action went through the agent, as the local principal, audited with the run's request id.
  const audit = JSON.parse(dvmOk(home, ['audit', '--action', 'system.info', '-o', 'json']).stdout).items as {
    actor: string;
    decision: string;
    requestId: string;
  }[];
  const executed = audit.filter((e) => e.decision === 'executed');
  assert.ok(executed.length >= 2, JSON.stringify(audit));
  assert.ok(executed.every((e) => e.actor === 'local'));
  assert.ok(runs.some((r) => executed.some((e) => e.requestId.startsWith(r.id))));
  // Applied without its schedule, it is disarmed within a reload, and no run starts after that.
  dvmOk(home, ['apply', '-f', '-'], { input: task('') });
  await server.waitFor(/task lab\/ci\/info disarmed \(its schedule was removed\)/);
  await sleep(300); // a run that had started finishes
  const before = taskRuns().length;
  await sleep(2500);
  assert.equal(taskRuns().length, before, 'no run after the schedule was removed');
  assert.equal(await server.stop(), 0);
});

test('concurrency skip: runs never overlap and the triggers that fire meanwhile are logged as skipped', async () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: slow, domain: ci}
spec:
  command: [sleep, "2"]
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: tick, domain: ci}
spec:
  runs: slow
  concurrency: skip
  trigger: {schedule: "*/1 * * * * *"}
`,
  });
  const server = serve(home, tempDir('dvm-cwd-'));
  await server.waitFor(/(run r\S+ started[\s\S]*){2}/);
  assert.match(
    server.output(),
    /job lab\/ci\/tick skipped schedule: run r\S+ is still active \(concurrency skip\)/,
  );
  assert.equal(await server.stop(), 0);
  const runs = jobRuns(home, 'tick').sort((a, b) => String(a.startedAt).localeCompare(String(b.startedAt)));
  assert.ok(runs.length >= 2, JSON.stringify(runs));
  assert.equal(runs[0].status, 'Succeeded');
  for (let i = 1; i < runs.length; i++) {
    assert.ok(
      String(runs[i].startedAt) >= String(runs[i - 1].finishedAt),
      `run ${runs[i].id} started before ${runs[i - 1].id} finished`,
    );
  }
});

test('SIGTERM stops serve with exit 0; the active run ends Cancelled and its process is killed', async () => {
  const home = tempHome();
  const work = tempDir('dvm-cwd-');
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: long, domain: ci}
spec:
  shell: echo $$ > long.pid; exec sleep 30
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: long, domain: ci}
spec:
  runs: long
  trigger: {schedule: "*/1 * * * * *"}
`,
  });
  const server = serve(home, work);
  await server.waitFor(/job lab\/ci\/long run r\S+ started/);
  const pid = await until('the task pid', () => {
    try {
      return Number(readFileSync(join(work, 'long.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  });
  assert.equal(await server.stop('SIGTERM'), 0);
  assert.match(server.output(), /job lab\/ci\/long run r\S+ Cancelled/);
  assert.match(server.output(), /serve stopped\n$/);
  const runs = jobRuns(home, 'long');
  assert.equal(runs.length, 1);
  assert.equal(runs[0].status, 'Cancelled');
  await until(
    'the task process to be gone',
    () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ESRCH' ? true : undefined;
      }
    },
    3000,
  );
});

test('dvm run job runs a commit-triggered job without spec.app in the domain App, as dvm serve does', () => {
  const home = tempHome();
  const repo = tempDir('dvm-job-app-');
  const elsewhere = tempDir('dvm-job-cwd-');
  git(repo, ['init', '-q']);
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${webAppAt(repo)}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: where, domain: ci}
spec: {command: [pwd]}
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: on-commit, domain: ci}
spec:
  trigger: {watch: app.path, event: commit}
  runs: where
`,
  });
  const run = dvmOk(home, ['run', 'job', 'on-commit'], { cwd: elsewhere });
  const id = run.stderr.match(/^run (r\S+):/m)?.[1];
  assert.ok(id, run.stderr);
  assert.equal(dvmOk(home, ['logs', 'run', id, '--task', 'where']).stdout.trim(), repo);
});

// Applies a Job named NAME in domain ci that runs a task `where`, with the trigger lines given (indented under
// trigger:), and returns what apply printed on stderr.
function applyJobWithTrigger(name: string, trigger: string): string {
  return dvmOk(tempHome(), ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: where, domain: ci}
spec: {command: [pwd]}
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: ${name}, domain: ci}
spec:
  trigger:
${trigger}
  runs: where
`,
  }).stderr;
}

test('a Job trigger dvm serve could not arm is applied with a warning that says so', () => {
  assert.match(
    applyJobWithTrigger('on-push', '    watch: app.path\n    event: push'),
    /warning: DVM_TRIGGER_INVALID <stdin>:\d+:\d+ Job\/on-push spec\.trigger: event "push" is not supported by dvm serve yet/,
  );
});

test('a Job whose trigger has manual: true beside a schedule is applied with a warning that the schedule never fires', () => {
  assert.match(
    applyJobWithTrigger('nightly', '    schedule: "0 3 * * *"\n    manual: true'),
    /warning: DVM_TRIGGER_INVALID <stdin>:\d+:5 Job\/nightly spec\.trigger\.manual: manual: true turns off the rest of this trigger \(schedule\): dvm serve never starts this job on its own/,
  );
});

// A job every second whose workflow runs `long` (a 30 s sleep, its pid in long.pid) with a finally task `cleanup`
// of this spec.
function applyLongJob(home: string, cleanupSpec: string): void {
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: long, domain: ci}
spec:
  shell: echo $$ > long.pid; exec sleep 30
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: cleanup, domain: ci}
${cleanupSpec}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: with-cleanup, domain: ci}
spec:
  tasks: [{name: long, taskRef: long}]
  finally: [{name: cleanup, taskRef: cleanup}]
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: long, domain: ci}
spec:
  runs: with-cleanup
  trigger: {schedule: "*/1 * * * * *"}
`,
  });
}

test('a stopped serve runs the finally tasks of the runs it cancels; a second signal kills them and exits 130', async () => {
  const home = tempHome();
  const work = tempDir('dvm-cwd-');
  applyLongJob(home, 'spec:\n  shell: echo $$ > cleanup.pid; exec sleep 30');
  const server = serve(home, work);
  const pidIn = (file: string) =>
    until(file, () => {
      try {
        return Number(readFileSync(join(work, file), 'utf8').trim()) || undefined;
      } catch {
        return undefined;
      }
    });
  const long = await pidIn('long.pid');
  server.stop('SIGTERM');
  const cleanup = await pidIn('cleanup.pid');
  after(() => {
    for (const pid of [long, cleanup]) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone, as it should be.
      }
    }
  });
  assert.ok(processRunning(cleanup), 'the finally task runs after the cancel');
  assert.equal(await server.stop('SIGTERM'), 130);
  await until('the finally task to be gone', () => (processRunning(cleanup) ? undefined : true), 3000);
  assert.ok(!processRunning(long));
});

test('a stopped serve still runs the action tasks of the finally it runs: the agent it shares with the API closes after the runs', async () => {
  const home = tempHome();
  const work = tempDir('dvm-cwd-');
  applyLongJob(home, 'spec: {action: system.info}');
  const server = serve(home, work);
  await until('the long task', () => (existsSync(join(work, 'long.pid')) ? true : undefined));
  assert.equal(await server.stop('SIGTERM'), 0, server.output());
  const [run] = jobRuns(home, 'long');
  assert.equal(run.status, 'Cancelled');
  const tasks = JSON.parse(dvmOk(home, ['status', 'run', run.id, '-o', 'json']).stdout).items as Run[];
  const info = tasks.find((t) => t.name === 'cleanup');
  assert.equal(info?.status, 'Succeeded', JSON.stringify(tasks.map((t) => [t.name, t.status])));
});

test('SIGHUP (its terminal closed) stops serve as SIGTERM does: logged, exit 0, not killed on the spot', async () => {
  const home = tempHome();
  const server = serve(home, tempDir('dvm-cwd-'));
  await server.waitFor(/serve started/);
  assert.equal(await server.stop('SIGHUP'), 0, server.output());
  assert.match(server.output(), /serve stopping \(SIGHUP\)\n[\s\S]*serve stopped\n$/);
});

test('one dvm serve per home: a second is DVM_CONFLICT while the first runs, and takes over once it was killed', async () => {
  const home = tempHome();
  const cwd = tempDir('dvm-cwd-');
  const first = serve(home, cwd);
  await first.waitFor(/serve started/);
  const second = dvm(home, ['serve', '--no-api'], { cwd });
  assert.equal(second.status, 1, second.stderr);
  assert.match(second.stderr, /^error: DVM_CONFLICT: another dvm \(pid \d+\) already serves the jobs of /);
  await first.stop('SIGKILL');
  const third = serve(home, cwd);
  await third.waitFor(/serve started/);
  assert.equal(await third.stop('SIGTERM'), 0);
});

test('the first commit of a repository that had none fires the job', async () => {
  const home = tempHome();
  const repo = gitRepo({ firstCommit: false });
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${webAppAt(repo)}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: noop, domain: ci}
spec: {command: ["true"]}
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: on-commit, domain: ci}
spec:
  runs: noop
  trigger: {watch: app.path, event: commit}
`,
  });
  const server = serve(home, tempDir('dvm-cwd-'));
  await server.waitFor(/job lab\/ci\/on-commit armed: commits in .* \(no commits yet\)/);
  git(repo, ['commit', '-q', '--allow-empty', '-m', 'first']);
  const sha = git(repo, ['rev-parse', 'HEAD']);
  const run = await until('a Succeeded commit run', () =>
    jobRuns(home, 'on-commit').find((r) => r.status === 'Succeeded'),
  );
  assert.equal(run.commit, sha);
  assert.equal(await server.stop(), 0);
});

test('a serve started after one was killed stops the processes of its runs and marks them Interrupted', async () => {
  const home = tempHome();
  const repo = gitRepo({ firstCommit: true });
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${webAppAt(repo)}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: long, domain: ci}
spec:
  shell: echo $$ > "$DVM_RUN_ID.pid"; exec sleep 30
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: deploy, domain: ci}
spec:
  runs: long
  trigger: {watch: app.path, event: commit}
`,
  });
  const first = serve(home, tempDir('dvm-cwd-'));
  await first.waitFor(/job lab\/ci\/deploy armed/);
  git(repo, ['commit', '-q', '--allow-empty', '-m', 'second']);
  const [, id] = await first.waitFor(/job lab\/ci\/deploy run (r\S+) started/);
  const pid = await until('the task pid', () => {
    try {
      return Number(readFileSync(join(repo, `${id}.pid`), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  });
  await first.stop('SIGKILL');
  assert.ok(processRunning(pid), 'the task outlives the killed serve');
  const second = serve(home, tempDir('dvm-cwd-'));
  await second.waitFor(new RegExp(`run ${id} \\(job lab/ci/deploy\\) Interrupted`));
  // Nothing else ran dvm meanwhile: the new serve stopped the task itself.
  await until('the task process to be gone', () => (processRunning(pid) ? undefined : true), 5000);
  assert.equal(await second.stop(), 0);
  assert.equal(jobRuns(home, 'deploy')[0].status, 'Interrupted');
});

test('a schedule no date matches is DVM_CRON_INVALID at apply time, with its line: it would never fire', () => {
  const home = tempHome();
  const run = dvm(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: noop, domain: ci}
spec: {command: ["true"]}
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: leap, domain: ci}
spec:
  runs: noop
  trigger: {schedule: "0 0 31 4,6 *"}
`,
  });
  assert.equal(run.status, 1, run.stderr);
  assert.match(
    run.stderr,
    /DVM_CRON_INVALID <stdin>:19:13 Job\/leap spec\.trigger\.schedule: schedule "0 0 31 4,6 \*" never fires/,
  );
});

test('a commit trigger with no App to watch (none, several, one without a path) is applied with a coded warning', () => {
  const home = tempHome();
  const job = (name: string, domain: string) => `---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: ${name}, domain: ${domain}}
spec:
  runs: ci/noop
  trigger: {watch: app.path, event: commit}
`;
  const applied = dvmOk(home, ['apply', '-f', '-'], {
    input: `${LAB_CI}---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: two, ecosystem: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: bare, ecosystem: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: noop, domain: ci}
spec: {command: ["true"]}
---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: a, domain: two}
spec: {path: /tmp}
---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: b, domain: two}
spec: {path: /tmp}
---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: nopath, domain: bare}
spec: {language: go}
${job('none', 'ci')}${job('several', 'two')}${job('unwatched', 'bare')}`,
  });
  assert.match(
    applied.stderr,
    /warning: DVM_REF_NOT_FOUND <stdin>:\d+:\d+ Job\/none spec\.trigger: no App in lab\/ci whose repository the commit trigger watches/,
  );
  assert.match(
    applied.stderr,
    /warning: DVM_AMBIGUOUS <stdin>:\d+:\d+ Job\/several spec\.trigger: 2 Apps in lab\/two \(a, b\)/,
  );
  assert.match(
    applied.stderr,
    /warning: DVM_TRIGGER_INVALID <stdin>:\d+:\d+ Job\/unwatched spec\.trigger: App nopath has no spec\.path/,
  );
});

test('a --poll-interval past what a timer can wait (24 days) is DVM_USAGE, not a git poll every millisecond', () => {
  // Bounded: a serve that accepted it would run until killed.
  const run = spawnSync(process.execPath, [DVM_BIN, 'serve', '--no-api', '--poll-interval', '30d'], {
    env: { ...process.env, DVM_HOME: tempHome(), NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 5000,
  });
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /DVM_USAGE: --poll-interval "30d" is longer than 24d/);
});
