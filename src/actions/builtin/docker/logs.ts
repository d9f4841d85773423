import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { READ_OUTPUT_SCHEMA, STREAM_TAGGED_LOG, TailArtifact } from '../../artifact.ts';
import { maxLineCharsFor } from '../../line-assembler.ts';
import { dockerClient, dockerError, inspectContainer, readContainerLogs } from './connection.ts';
import { LogDemuxer, type LogLine } from './frames.ts';
import { dockerSince, SINCE_FORMS, SINCE_PATTERN } from './since.ts';

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

/** Lines from the end docker.logs returns when neither tail nor since is given. */
export const DEFAULT_TAIL = 100;

/** Container names and ids as Docker accepts them. */
export const CONTAINER_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$';

/**
 * `docker.logs`: a container's output — its tail, or every line since a time — or a live follow, split into stdout
 * and stderr.
 */
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
      // No schema default: validation would fill it in, and "since without tail" could not be told apart.
      tail: {
        type: 'integer',
        minimum: 0,
        maximum: 10_000,
        description: `Lines from the end; when not given, ${DEFAULT_TAIL}, or every line since \`since\` when that is given.`,
      },
      since: {
        type: 'string',
        pattern: SINCE_PATTERN,
        description: `Only lines since then: ${SINCE_FORMS}.`,
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
    // As `docker logs`: with since and no tail, every line since then (the artifact's cap still keeps only the end).
    const tail = input.tail ?? (input.since ? undefined : DEFAULT_TAIL);
    const read = (follow: boolean, lines: number | undefined) => ({
      stdout: true,
      stderr: true,
      follow,
      timestamps: input.timestamps ?? false,
      ...(lines === undefined ? {} : { tail: lines }),
      ...(input.since ? { since: dockerSince(input.since) } : {}),
    });
    const docker = await dockerClient(context.env);
    const container = docker.getContainer(input.container);
    let info: Awaited<ReturnType<typeof inspectContainer>>;
    try {
      info = await inspectContainer(container, context.signal);
    } catch (error) {
      throw dockerError(error, input.container, context.env);
    }
    // A tail asks Docker for one entry more, read only for what it opens: a tail that would start on a secret's value
    // (`password:` on the line above it, or inside a line over 16 KiB, which Docker keeps and counts in pieces:
    // `…sword=x`) then has the line above, and leaves the value out with it. A read knows at its end whether Docker
    // had that entry; a follow cannot tell it from the first new line, so a read without follow asks first.
    const tty = info.Config.Tty === true;
    const maxLineChars = maxLineCharsFor(context.maxOutputBytes);
    let extra = tail !== undefined && tail > 0;
    if (extra && input.follow) {
      try {
        const counted = await entriesOf(
          container,
          read(false, (tail ?? 0) + 1),
          tty,
          maxLineChars,
          context.signal,
        );
        extra = counted > (tail ?? 0);
      } catch (error) {
        throw dockerError(error, input.container, context.env);
      }
    }
    const options = read(input.follow === true, extra ? (tail ?? 0) + 1 : tail);
    const demux = new LogDemuxer(tty, maxLineChars);
    // Only counts and the capped tail are kept: a follow may stream for an hour, a since read hold a day of lines.
    const kept = new TailArtifact(context.maxOutputBytes);
    let lineCount = 0;
    let stderrLines = 0;
    // The first line read (its stream, and the pieces it came in so far), and whether it has ended.
    let first: { stream: LogLine['stream']; pieces: number; ended: boolean } | undefined;
    const take = (found: LogLine[]) => {
      for (const l of found) {
        lineCount++;
        if (l.stream === 'stderr') stderrLines++;
        first ??= { stream: l.stream, pieces: 0, ended: false };
        const ofFirst = !first.ended && first.stream === l.stream;
        if (ofFirst) {
          first.pieces++;
          first.ended = l.part === undefined || l.part === 'last';
        }
        // Whole lines only: a piece of a line longer than the cap leaves that line out (no secret cut in two).
        kept.push(l.line, l.part, l.stream === 'stderr' ? 'E ' : 'O ');
        if (input.follow)
          context.emit?.({
            type: 'log',
            stream: l.stream,
            line: l.line,
            ...(extra && ofFirst ? { context: true } : {}),
          });
      }
    };
    try {
      await readContainerLogs(container, options, context.signal, (chunk) => take(demux.push(chunk)));
    } catch (error) {
      throw dockerError(error, input.container, context.env);
    }
    take(demux.end());
    // Docker had the entry more that was asked for: the first line is that context, not output.
    if (first && extra && (input.follow || demux.entries > (tail ?? 0))) {
      kept.leaveOutFirstLine();
      lineCount -= first.pieces;
      if (first.stream === 'stderr') stderrLines -= first.pieces;
    }
    const artifact = kept.artifact(STREAM_TAGGED_LOG);
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

// How many entries Docker has for `options` (a read without follow; at most their tail): read and counted, not kept.
async function entriesOf(
  container: Parameters<typeof readContainerLogs>[0],
  options: Record<string, unknown>,
  tty: boolean,
  maxLineChars: number,
  signal: AbortSignal,
): Promise<number> {
  const demux = new LogDemuxer(tty, maxLineChars);
  await readContainerLogs(container, options, signal, (chunk) => {
    demux.push(chunk);
  });
  demux.end();
  return demux.entries;
}
