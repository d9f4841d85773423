import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openAgent } from '../../src/agent/agent.ts';
import { tempHome } from '../helpers/dvm.ts';
import { recordingWebhook } from '../helpers/webhook.ts';

test('an execution a crash interrupted is audited failed when the agent starts again, and alerted like any failure', async () => {
  const hook = await recordingWebhook();
  const home = tempHome();
  writeFileSync(
    join(home, 'config.yaml'),
    `notify:\n  team: {url: "${hook.url}team"}\nagent:\n  alerts:\n    - {name: crashes, notify: team, decision: failed}\n`,
  );
  try {
    // A follow a killed process was running: stored as running, with a pid that no longer lives.
    const dead = Number(
      spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim(),
    );
    const first = await openAgent(home);
    first.db
      .prepare(
        `INSERT INTO executions (id, request_id, principal, action, version, env, target, status, pid, created_at)
         VALUES ('xcrashed1', 'r-crash', 'local', 'docker.logs', '1.0.0', 'prod', '{"env":"prod"}', 'running', ?, ?)`,
      )
      .run(dead, new Date().toISOString());
    await first.close();
    const second = await openAgent(home);
    try {
      for (let i = 0; i < 50 && hook.received.length === 0; i++) await sleep(100);
      assert.equal(hook.received.length, 1, 'one alert');
      const alert = hook.received[0];
      assert.match(alert, /xcrashed1/);
      assert.match(alert, /DVM_EXECUTION_INTERRUPTED/);
      const failed = second.audit.query({ decision: 'failed' }).items;
      assert.deepEqual(
        failed.map((e) => [e.executionId, e.error?.code]),
        [['xcrashed1', 'DVM_EXECUTION_INTERRUPTED']],
      );
    } finally {
      await second.close();
    }
  } finally {
    hook.close();
  }
});
