import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { TEST_DOCKER_HOST } from '../support/require-service.ts';
import { api } from './agent-server.ts';

/** Runs the docker CLI against the test Docker engine and returns its trimmed stdout (stderr goes into the error). */
export function docker(...args: string[]): string {
  return execFileSync('docker', ['-H', TEST_DOCKER_HOST, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Removes containers whether or not they exist or still run (a test's clean-up; never fails). */
export function removeContainers(...names: string[]): void {
  try {
    docker('rm', '-f', ...names);
  } catch {}
}

/**
 * Starts a busybox container without a network that runs `script` with sh (on a terminal with `tty`, with `runArgs`
 * given to `docker run`, like a log driver); answers its id.
 */
export function startBusybox(
  container: string,
  script: string,
  options: { tty?: boolean; runArgs?: string[] } = {},
): string {
  return docker(
    'run',
    '-d',
    ...(options.tty ? ['-t'] : []),
    ...(options.runArgs ?? []),
    '--name',
    container,
    '--network',
    'none',
    'local/busybox:1',
    'sh',
    '-c',
    script,
  );
}

/** Starts a container that prints line1, line2, … ten times a second until it is removed. */
export function startChatty(container: string): string {
  return startBusybox(container, 'i=0; while true; do i=$((i+1)); echo line$i; sleep 0.1; done');
}

/**
 * Starts a `docker.logs` follow of `container` through the agent API as `token`, checks it was accepted (202) and
 * answers its execution id and events URL.
 */
export async function startDockerFollow(
  url: string,
  token: string,
  options: { requestId: string; container: string; timeout: string; tail?: number },
): Promise<{ execution_id: string; events: string }> {
  const accepted = await api(url, 'POST', '/v1/actions/execute', {
    token,
    body: {
      request_id: options.requestId,
      action: 'docker.logs',
      params: { container: options.container, tail: options.tail ?? 0, follow: true },
      target: { env: 'dev' },
      timeout: options.timeout,
    },
  });
  assert.equal(accepted.status, 202, accepted.text);
  return accepted.body as { execution_id: string; events: string };
}

/** The arguments of `dvm action run docker.logs` following `container` (follow=true), then `extra`. */
export function dockerFollowArgs(container: string, ...extra: string[]): string[] {
  return [
    'action',
    'run',
    'docker.logs',
    '--param',
    `container=${container}`,
    '--param',
    'follow=true',
    ...extra,
  ];
}
