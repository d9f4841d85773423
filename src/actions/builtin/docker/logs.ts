import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { READ_OUTPUT_SCHEMA, TailArtifact } from '../../artifact.ts';
import { parseDuration } from '../duration.ts';
import { dockerClient, dockerError, inspectContainer } from './connection.ts';
import { LogDemuxer, type LogLine } from './frames.ts';

/** Input of docker.logs. */
export type DockerLogsInput = {
  container: string;
  tail?: number;
  since?: string;
  timestamps?: boolean;
  follow?: boolean;
};

/** Summary of docker.logs. */
export type DockerLogsSummary = {
  container: string;
  id: string;
  lines: number;
  stdoutLines: number;
  stderrLines: number;
  truncated: boolean;
  followed: boolean;
};

/** Container names and ids as Docker accepts them. */
export const CONTAINER_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$';

// `since` as Unix seconds: a duration back from now, or an RFC 3339 time.
function sinceSeconds(since: string): number {
  if (/^\d+(ms|s|m|h|d)/.test(since)) return Math.floor((Date.now() - parseDuration(since)) / 1000);
  const t = Date.parse(since);
  if (Number.isNaN(t)) {
    throw new DvmError('DVM_ACTION_INPUT_INVALID', `since "${since}" is neither a duration nor a time`, {
      fix: 'Use a duration like 10m or a time like 2026-01-01T00:00:00Z.',
      path: 'since',
      details: { origin: 'user' },
    });
  }
  return Math.floor(t / 1000);
}

/** `docker.logs`: the tail of a container's output (or a live follow), split into stdout and stderr. */
export const dockerLogsAction: ActionDefinition<DockerLogsInput, ReadOutput<DockerLogsSummary>> = {
  name: 'docker.logs',
  version: '1.0.0',
  description:
    "A container's recent output (tail, since), stdout and stderr apart; follow streams new lines.",
  risk: 'read',
  timeouts: { defaultMs: 30_000, maxMs: 3_600_000 },
  longRunning: (input) => input.follow === true,
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['container'],
    properties: {
      container: { type: 'string', pattern: CONTAINER_PATTERN, description: 'Container name or id.' },
      tail: {
        type: 'integer',
        minimum: 0,
        maximum: 10_000,
        default: 100,
        description: 'Lines from the end.',
      },
      since: {
        type: 'string',
        minLength: 1,
        description: 'A duration back from now (10m) or an RFC 3339 time.',
      },
      timestamps: { type: 'boolean', default: false, description: 'Prefix each line with its time.' },
      follow: {
        type: 'boolean',
        default: false,
        description: 'Keep streaming new lines until cancelled or the container stops.',
      },
    },
  },
  outputSchema: READ_OUTPUT_SCHEMA,
  async handler(input, context) {
    const docker = await dockerClient(context.env);
    const container = docker.getContainer(input.container);
    let info: Awaited<ReturnType<typeof inspectContainer>>;
    try {
      info = await inspectContainer(container, context.signal);
    } catch (error) {
      throw dockerError(error, input.container, context.env);
    }
    const demux = new LogDemuxer(info.Config.Tty === true);
    // Only counts and the capped tail are kept: a follow may stream for an hour.
    const tail = new TailArtifact(context.maxOutputBytes);
    let lineCount = 0;
    let stderrLines = 0;
    const take = (found: LogLine[]) => {
      for (const l of found) {
        lineCount++;
        if (l.stream === 'stderr') stderrLines++;
        tail.push(`${l.stream === 'stderr' ? 'E ' : 'O '}${l.line}\n`);
        if (input.follow) context.emit?.({ type: 'log', stream: l.stream, line: l.line });
      }
    };
    const options = {
      stdout: true,
      stderr: true,
      tail: input.tail ?? 100,
      timestamps: input.timestamps ?? false,
      ...(input.since ? { since: sinceSeconds(input.since) } : {}),
    };
    try {
      if (input.follow) {
        const stream = (await container.logs({
          ...options,
          follow: true,
          abortSignal: context.signal,
        } as never)) as unknown as NodeJS.ReadableStream & { destroy(): void };
        await new Promise<void>((resolve, reject) => {
          const stop = () => {
            stream.destroy();
            resolve();
          };
          context.signal.addEventListener('abort', stop, { once: true });
          stream.on('data', (chunk: Buffer) => take(demux.push(chunk)));
          stream.on('end', () => {
            context.signal.removeEventListener('abort', stop);
            resolve();
          });
          stream.on('error', (error: Error) => (context.signal.aborted ? resolve() : reject(error)));
        });
      } else {
        const buffer = (await container.logs({
          ...options,
          follow: false,
          abortSignal: context.signal,
        } as never)) as unknown as Buffer;
        take(demux.push(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer))));
      }
    } catch (error) {
      throw dockerError(error, input.container, context.env);
    }
    take(demux.end());
    const artifact = tail.artifact();
    return {
      summary: {
        container: info.Name.replace(/^\//, ''),
        id: info.Id.slice(0, 12),
        lines: lineCount,
        stdoutLines: lineCount - stderrLines,
        stderrLines,
        truncated: artifact.truncated,
        followed: input.follow === true,
      },
      artifact,
    };
  },
};
