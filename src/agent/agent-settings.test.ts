import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentSettings, describeAgentSettings } from './agent-settings.ts';

test('describeAgentSettings says every setting in one line, the defaults included', () => {
  assert.equal(
    describeAgentSettings({}),
    'follows 100 at once (20 per principal); requests not rate-limited; executions kept for ever; environments any; 0 audit alert rule(s)',
  );
  const settings = agentSettings(
    {
      agent: {
        environments: ['prod', 'stage'],
        retention: '30d',
        limits: { follows: 5, requests_per_second: 10 },
      },
    },
    'config.yaml',
  );
  assert.equal(
    describeAgentSettings(settings),
    'follows 5 at once (20 per principal); requests 10/s per principal (burst 10); executions kept 30d; environments prod, stage; 0 audit alert rule(s)',
  );
});
