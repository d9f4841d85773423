import { execFileSync } from 'node:child_process';
import { TEST_DOCKER_HOST } from '../support/require-service.ts';

/** Runs the docker CLI against the test Docker engine and returns its trimmed stdout (stderr goes into the error). */
export function docker(...args: string[]): string {
  return execFileSync('docker', ['-H', TEST_DOCKER_HOST, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** Starts a container that prints line1, line2, … ten times a second until it is removed. */
export function startChatty(container: string): string {
  return docker(
    'run',
    '-d',
    '--name',
    container,
    '--network',
    'none',
    'local/busybox:1',
    'sh',
    '-c',
    'i=0; while true; do i=$((i+1)); echo line$i; sleep 0.1; done',
  );
}
