import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DVM_BIN, dvm, dvmOk, tempHome } from '../helpers/dvm.ts';

const BASE = `apiVersion: devopsmaestro.io/v1
kind: Ecosystem
metadata: {name: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: ci, ecosystem: lab}
---
apiVersion: devopsmaestro.io/v1
kind: Domain
metadata: {name: cd, ecosystem: lab}
`;

function runIdOf(stderr: string): string {
  const match = stderr.match(/^run (r\S+):/m);
  assert.ok(match, stderr);
  return match[1];
}

function statuses(home: string, id: string): Record<string, string> {
  const items = JSON.parse(dvmOk(home, ['status', 'run', id, '-o', 'json']).stdout).items as {
    node: string;
    status: string;
  }[];
  return Object.fromEntries(items.map((r) => [r.node, r.status]));
}

test('an orchestration runs pipelines of two domains in dependency order', () => {
  const home = tempHome();
  const pipeline = (domain: string, cmd: string) => `apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: step, domain: ${domain}}
spec: {shell: "${cmd}"}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: wf, domain: ${domain}}
spec: {tasks: [{name: step, taskRef: step}]}
---
apiVersion: devopsmaestro.io/v1
kind: Pipeline
metadata: {name: ci-pipeline, domain: ${domain}}
spec: {stages: [{name: only, workflowRef: wf}]}
`;
  const work = mkdtempSync(join(tmpdir(), 'dvm-orch-'));
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${BASE}---\n${pipeline('ci', 'echo ci >> order.txt')}---\n${pipeline('cd', 'echo cd >> order.txt')}---
apiVersion: devopsmaestro.io/v1
kind: Orchestration
metadata: {name: all, ecosystem: lab}
spec:
  pipelines:
    - {name: second, pipelineRef: cd/ci-pipeline, dependsOn: [first]}
    - {name: first, pipelineRef: ci/ci-pipeline}
`,
  });
  const run = dvmOk(home, ['run', 'orchestration', 'all'], { cwd: work });
  const s = statuses(home, runIdOf(run.stderr));
  assert.equal(s.all, 'Succeeded');
  assert.equal(s['all/first/only/step'], 'Succeeded');
  assert.equal(execFileSync('cat', [join(work, 'order.txt')]).toString(), 'ci\ncd\n');
});

test('a user-defined Action validates its inputs and passes them as whole argv elements', () => {
  const home = tempHome();
  const work = mkdtempSync(join(tmpdir(), 'dvm-ua-'));
  const objects = `${BASE}---
apiVersion: devopsmaestro.io/v1
kind: Action
metadata: {name: greet}
spec:
  description: Prints its argument verbatim
  risk: read
  inputs:
    - {name: who, type: string, required: true}
  command: [printf, "%s|", "{{ inputs.who }}"]
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: hello, domain: ci}
spec:
  action: greet
  params: {who: "; rm -rf / && echo $HOME"}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: broken, domain: ci}
spec:
  action: greet
  params: {whom: x}
`;
  dvmOk(home, ['apply', '-f', '-'], { input: objects });
  const ok = dvmOk(home, ['run', 'task', 'hello'], { cwd: work });
  assert.equal(
    dvmOk(home, ['logs', 'run', runIdOf(ok.stderr)])
      .stdout.split('\n')
      .slice(1)
      .join('\n'),
    '; rm -rf / && echo $HOME|',
  );
  const bad = dvm(home, ['run', 'task', 'broken'], { cwd: work });
  assert.equal(bad.status, 1);
  const items = JSON.parse(dvmOk(home, ['status', 'run', runIdOf(bad.stderr), '-o', 'json']).stdout).items;
  assert.equal(items[0].reason, 'DVM_ACTION_INPUT_INVALID');
  assert.equal(items[0].origin, 'user');
});

test('onFailure notifies a real webhook with the alert JSON; -o json streams NDJSON events', async () => {
  const received: { url?: string; body: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ url: req.url, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const home = tempHome();
    writeFileSync(
      join(home, 'config.yaml'),
      `notify:\n  alert: {url: "http://127.0.0.1:${port}/hooks/alert"}\n`,
    );
    dvmOk(home, ['apply', '-f', '-'], {
      input: `${BASE}---\napiVersion: devopsmaestro.io/v1\nkind: Task\nmetadata: {name: breaks, domain: ci}\nspec:\n  command: ["false"]\n  onFailure: {action: notify.alert, severity: high, message: build broke}\n`,
    });
    const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [DVM_BIN, 'run', 'task', 'breaks', '-o', 'json'], {
        env: { ...process.env, DVM_HOME: home },
      });
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout }));
    });
    assert.equal(run.code, 1);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.run.status}`),
      ['run.created:Pending', 'run.updated:Running', 'run.updated:Failed'],
    );
    assert.equal(received.length, 1);
    assert.equal(received[0].url, '/hooks/alert');
    assert.equal(received[0].body.event, 'dvm.alert');
    assert.equal(received[0].body.severity, 'high');
    assert.equal(received[0].body.message, 'build broke');
  } finally {
    server.close();
  }
});

test('a job runs its pipeline by hand and its onSuccess pushes to a real git remote', () => {
  const home = tempHome();
  const root = mkdtempSync(join(tmpdir(), 'dvm-git-'));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=dvm', '-c', 'user.email=dvm@example.com', ...args], {
      cwd,
      encoding: 'utf8',
    }).trim();
  git(root, 'init', '-q', '--bare', '-b', 'main', 'remote.git');
  git(root, 'clone', '-q', join(root, 'remote.git'), 'app');
  const app = join(root, 'app');
  git(app, 'checkout', '-q', '-b', 'main');
  writeFileSync(join(app, 'README'), 'v1\n');
  git(app, 'add', 'README');
  git(app, 'commit', '-q', '-m', 'first');
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${BASE}---
apiVersion: devopsmaestro.io/v1
kind: App
metadata: {name: svc, domain: ci}
spec: {path: ${app}}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: check, domain: ci}
spec: {command: [test, -f, README]}
---
apiVersion: devopsmaestro.io/v1
kind: Job
metadata: {name: ship, domain: ci}
spec:
  runs: check
  app: svc
  trigger: {manual: true}
  onSuccess: {action: git.push, remote: origin, branch: main}
`,
  });
  // The job's spec.app sets where its tasks run; for a plain task, -a (or `dvm use app`) does.
  const run = dvmOk(home, ['run', 'job', 'ship']);
  assert.equal(statuses(home, runIdOf(run.stderr))['ship/check'], 'Succeeded');
  assert.equal(dvm(home, ['run', 'task', 'check']).status, 1);
  dvmOk(home, ['run', 'task', 'check', '-a', 'svc']);
  assert.equal(git(join(root, 'remote.git'), 'rev-parse', 'main'), git(app, 'rev-parse', 'HEAD'));
});

test("a built-in action's output is in its task log, and its fields are results later tasks use", () => {
  const home = tempHome();
  dvmOk(home, ['apply', '-f', '-'], {
    input: `${BASE}---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: info, domain: ci}
spec: {action: system.info, results: [{name: pid}]}
---
apiVersion: devopsmaestro.io/v1
kind: Task
metadata: {name: use, domain: ci}
spec: {command: [/bin/echo, "agent pid $(tasks.info.results.pid)"]}
---
apiVersion: devopsmaestro.io/v1
kind: Workflow
metadata: {name: chain, domain: ci}
spec: {tasks: [{name: info, taskRef: info}, {name: use, taskRef: use, dependsOn: [info]}]}
`,
  });
  const run = dvmOk(home, ['run', 'workflow', 'chain', '-d', 'ci']);
  const id = runIdOf(run.stderr);
  const infoLog = dvmOk(home, ['logs', 'run', id, '--task', 'info']).stdout;
  const summary = JSON.parse(infoLog.slice(infoLog.indexOf('{'))).summary;
  assert.equal(typeof summary.pid, 'number');
  assert.match(
    dvmOk(home, ['logs', 'run', id, '--task', 'use']).stdout,
    new RegExp(`agent pid ${summary.pid}\\b`),
  );
});
