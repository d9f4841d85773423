import assert from 'node:assert/strict';
import { test } from 'node:test';
import { notifyUrl } from '../actions/builtin/notify.ts';
import type { DvmError } from '../errors/dvm-error.ts';
import { checkHomeConfigShape } from './home-config-shape.ts';

test('config.yaml: unknown sections and keys (a typo of patterns) and webhook URLs with a password are refused, each at its path', () => {
  assert.throws(
    () =>
      checkHomeConfigShape(
        {
          notfy: {},
          redact: { pattern: ['ACME[0-9]+'] },
          notify: { alert: { url: 'http://ops:hunter2pw@127.0.0.1:9041/hook' }, slak: { url: 'https://x' } },
        },
        '/h/config.yaml',
      ),
    (e: DvmError) => {
      assert.equal(e.code, 'DVM_SCHEMA_INVALID');
      assert.deepEqual(
        e.causes.map((c) => c.path),
        ['notfy', 'notify.alert.url', 'notify.slak', 'redact.pattern'],
      );
      assert.match(e.causes[0].message, /did you mean "notify"/);
      assert.match(e.causes[3].message, /did you mean "patterns"/);
      assert.doesNotMatch(JSON.stringify(e.causes), /hunter2pw/);
      return true;
    },
  );
  checkHomeConfigShape(
    {
      notify: { slack: { url: 'https://hooks.slack.com/services/T/B/x' } },
      redact: { patterns: [] },
      agent: {},
    },
    '/h/config.yaml',
  );
});

test('a notify URL from the environment with a password in it is refused without showing it', () => {
  assert.throws(
    () => notifyUrl('alert', 'notify.alert', { alert: { url: 'https://ops:hunter2pw@alerts.example/hook' } }),
    (e: DvmError) =>
      e.code === 'DVM_NOTIFY_NOT_CONFIGURED' &&
      /has a user or password in it/.test(e.message) &&
      !/hunter2pw/.test(`${e.message}${e.fix}`),
  );
});
