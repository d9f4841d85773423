import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { removeContainers, startBusybox } from '../../../../test/helpers/docker.ts';
import { dockerAnswers, requireService, TEST_DOCKER_HOST } from '../../../../test/support/require-service.ts';
import type { DvmError } from '../../../errors/dvm-error.ts';
import { testContext } from '../../testing.ts';
import { dockerError } from './connection.ts';
import { dockerLogsAction } from './logs.ts';

const env = { ...(process.env as Record<string, string>), DOCKER_HOST: TEST_DOCKER_HOST };
const name = `dvm-test-${process.pid}-nolog`;
after(() => removeContainers(name));

test('docker.logs of a container whose log driver cannot be read is the target’s failure, not an unavailable Docker (Docker)', async (t) => {
  if (!(await requireService(t, 'Docker', () => dockerAnswers(), 'bash scripts/services/docker.sh'))) return;
  startBusybox(name, 'echo hi; sleep 600', { runArgs: ['--log-driver', 'none'] });
  for (const follow of [false, true]) {
    await assert.rejects(
      dockerLogsAction.handler({ container: name, follow }, testContext({ env })),
      (e: DvmError) => {
        assert.equal(e.code, 'DVM_TASK_FAILED', `follow ${follow}: ${e.message}`);
        assert.equal(e.httpStatus, 422);
        assert.deepEqual([e.details.origin, e.details.status], ['user', 501]);
        // Docker's own message, without dockerode's "(HTTP code 501) unexpected -" prefix.
        assert.match(e.message, /\(501\): configured logging driver does not support reading$/);
        assert.match(e.fix ?? '', /json-file, local or journald/);
        return true;
      },
    );
  }
});

test('Docker 400 and 409 are the caller’s errors with Docker’s message; 5xx and unreachable stay DVM_CONNECTOR_UNAVAILABLE', () => {
  // Errors shaped as dockerode (docker-modem) makes them from Docker's answers.
  const answered = (statusCode: number, message: string) =>
    Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), {
      statusCode,
      json: { message },
    });
  const coded = (error: unknown) => {
    const e = dockerError(error, 'web', env) as DvmError;
    return [e.code, e.httpStatus, e.details.origin, e.message];
  };
  assert.deepEqual(coded(answered(409, 'Container web is restarting, wait until the container is running')), [
    'DVM_CONFLICT',
    409,
    'user',
    'Docker refused it for container "web" (409): Container web is restarting, wait until the container is running',
  ]);
  assert.deepEqual(coded(answered(400, 'invalid since value')), [
    'DVM_ACTION_INPUT_INVALID',
    422,
    'user',
    'Docker refused the request for container "web" (400): invalid since value',
  ]);
  assert.deepEqual(coded(answered(500, 'devicemapper: error')).slice(0, 3), [
    'DVM_CONNECTOR_UNAVAILABLE',
    503,
    'system',
  ]);
  assert.deepEqual(
    coded(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).slice(0, 3),
    ['DVM_CONNECTOR_UNAVAILABLE', 503, 'system'],
  );
  assert.equal(coded(answered(404, 'No such container: web'))[0], 'DVM_TARGET_NOT_FOUND');
});
