import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionDefinition } from '../../action.ts';
import { canonicalContainer, dockerClient, dockerError, inspectContainer } from './connection.ts';
import { CONTAINER_PATTERN } from './logs.ts';

/** Input of docker.restart_container. */
export type DockerRestartInput = { container: string; timeoutSeconds?: number };

/** Output of docker.restart_container. */
export type DockerRestartOutput = {
  container: string;
  id: string;
  state: string;
  startedAt: string;
  previousStartedAt: string;
};

// The action's longest run, and what a restart needs past its grace period (the start and its check).
const MAX_TIMEOUT_SECONDS = 300;
const START_ALLOWANCE_SECONDS = 30;

/** `docker.restart_container`: restarts a container (SIGTERM, then SIGKILL after the grace) and checks it runs again. */
export const dockerRestartAction: ActionDefinition<DockerRestartInput, DockerRestartOutput> = {
  name: 'docker.restart_container',
  version: '1.0.0',
  description: 'Restart a container (stop with a grace period, start) and verify it is running again.',
  risk: 'write',
  timeouts: { defaultMs: 60_000, maxMs: MAX_TIMEOUT_SECONDS * 1000 },
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['container'],
    properties: {
      container: { type: 'string', pattern: CONTAINER_PATTERN, description: 'Container name or id.' },
      timeoutSeconds: {
        type: 'integer',
        minimum: 0,
        maximum: MAX_TIMEOUT_SECONDS - START_ALLOWANCE_SECONDS,
        default: 10,
        description: `Grace before SIGKILL; the request's timeout must leave ${START_ALLOWANCE_SECONDS} s more for the start (a default timeout is raised to that).`,
      },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['container', 'id', 'state', 'startedAt', 'previousStartedAt'],
    properties: {
      container: { type: 'string' },
      id: { type: 'string' },
      state: { type: 'string' },
      startedAt: { type: 'string' },
      previousStartedAt: { type: 'string' },
    },
  },
  // The grace period, then the start and its check.
  minTimeoutMs: (input) => ((input.timeoutSeconds ?? 10) + START_ALLOWANCE_SECONDS) * 1000,
  canonicalInput: canonicalContainer,
  async handler(input, context) {
    const docker = await dockerClient(context.env);
    const container = docker.getContainer(input.container);
    try {
      const progress = (message: string, percent: number) =>
        context.emit?.({ type: 'progress', message, percent });
      const before = await inspectContainer(container, context.signal);
      const grace = input.timeoutSeconds ?? 10;
      progress(`restarting ${input.container} (${before.State.Status}; SIGKILL after ${grace} s)`, 10);
      await container.restart({ t: grace, abortSignal: context.signal } as never);
      progress(`restarted ${input.container}: checking that it runs`, 80);
      const after = await inspectContainer(container, context.signal);
      if (!after.State.Running || after.State.StartedAt === before.State.StartedAt) {
        throw new DvmError(
          'DVM_TASK_FAILED',
          `container ${input.container} did not come back (state ${after.State.Status})`,
          {
            fix: `Look at its logs: dvm action run docker.logs --param container=${input.container}`,
            details: { origin: 'user', state: after.State.Status, exitCode: after.State.ExitCode },
          },
        );
      }
      progress(`${input.container} is running again (started ${after.State.StartedAt})`, 100);
      return {
        container: after.Name.replace(/^\//, ''),
        id: after.Id.slice(0, 12),
        state: after.State.Status,
        startedAt: after.State.StartedAt,
        previousStartedAt: before.State.StartedAt,
      };
    } catch (error) {
      throw dockerError(error, input.container, context.env);
    }
  },
};
