import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { READ_OUTPUT_SCHEMA, SOURCE_CONTEXT_LINES, STREAM_TAGGED_LOG, TailArtifact } from '../../artifact.ts';
import { LeadingContext } from '../../leading-context.ts';
import { maxLineCharsFor } from '../../line-assembler.ts';
import {
  canonicalContainer,
  dockerClient,
  dockerError,
  inspectContainer,
  readContainerLogs,
} from './connection.ts';
import { FrameCounter, LogDemuxer, type LogLine } from './frames.ts';
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
  canonicalInput: canonicalContainer,
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
    // A tail asks Docker for SOURCE_CONTEXT_LINES entries more, read only for what they open: a tail that would
    // start on a secret's value (its key on a line above, a YAML block's key lines above, or a key cut by Docker's
    // 16 KiB pieces: `…sword=x`) then has the key, and leaves the value out with it. A read knows at its end how many
    // of those Docker had; a follow cannot tell them from new lines, so it counts them first with a read. A TTY
    // container's stream has no frames: a read without timestamps (Docker puts one before each piece) counts its lines'
    // pieces from their raw length, and its lines above the tail are then known by their number.
    const tty = info.Config.Tty === true;
    const maxLineChars = maxLineCharsFor(context.maxOutputBytes);
    const shown = tail ?? 0;
    const asked = shown > 0 ? shown + SOURCE_CONTEXT_LINES : tail;
    // The entries above the tail (a TTY container's: its lines), when counted before.
    let contextEntries: number | undefined;
    if (asked !== tail && (input.follow || tty)) {
      try {
        const counting = { ...read(false, asked), timestamps: false };
        contextEntries = tty
          ? await ttyLinesAbove(container, counting, shown, maxLineChars, context.signal)
          : Math.max(0, (await framesOf(container, counting, context.signal)) - shown);
      } catch (error) {
        // Stopped while it counted: it ends below, with nothing.
        if (!context.signal.aborted) throw dockerError(error, input.container, context.env);
      }
    }
    const demux = new LogDemuxer(tty, maxLineChars);
    // Only counts and the capped tail are kept: a follow may stream for an hour, a since read hold a day of lines.
    const kept = new TailArtifact(context.maxOutputBytes);
    let lineCount = 0;
    let stderrLines = 0;
    // The first lines (by their first piece): the entry each started in, its stream and pieces; and which of them is
    // still coming in pieces, per stream.
    const leading: { entry: number; stream: LogLine['stream']; pieces: number }[] = [];
    const inPieces = new Map<LogLine['stream'], (typeof leading)[number]>();
    const before = new LeadingContext();
    let lines = 0;
    const take = (found: LogLine[]) => {
      for (const piece of found) {
        // A TTY container's lines are known by their number (its count was read without timestamps).
        const l = tty
          ? { ...piece, entry: piece.part === 'middle' || piece.part === 'last' ? lines - 1 : lines++ }
          : piece;
        lineCount++;
        if (l.stream === 'stderr') stderrLines++;
        const tag = l.stream === 'stderr' ? 'E ' : 'O ';
        let record = inPieces.get(l.stream);
        if (l.part === undefined || l.part === 'first') {
          record =
            leading.length < SOURCE_CONTEXT_LINES * 4
              ? { entry: l.entry, stream: l.stream, pieces: 0 }
              : undefined;
          if (record) leading.push(record);
        }
        if (record) record.pieces++;
        if (l.part === 'first' || l.part === 'middle')
          inPieces.set(l.stream, record as (typeof leading)[number]);
        else inPieces.delete(l.stream);
        // Whole lines only: a piece of a line longer than the cap leaves that line out (no secret cut in two).
        kept.push(l.line, l.part, tag);
        if (!input.follow) continue;
        // A line above the tail, or the value it opened: read for what it opens, never streamed.
        const aboveTail = contextEntries !== undefined && l.entry < contextEntries;
        if (aboveTail) before.context(l.line, l.part, tag);
        const hidden = aboveTail || before.hides(l.line, l.part, tag);
        context.emit?.({ type: 'log', stream: l.stream, line: l.line, ...(hidden ? { context: true } : {}) });
      }
    };
    // A follow stopped while it counted ends with nothing, as one stopped before its first line.
    if (!context.signal.aborted) {
      try {
        await readContainerLogs(container, read(input.follow === true, asked), context.signal, (chunk) =>
          take(demux.push(chunk)),
        );
      } catch (error) {
        throw dockerError(error, input.container, context.env);
      }
      take(demux.end());
    }
    // The lines above the tail (and any pushed before the last of them) are not output: the entries Docker had past it.
    const above = contextEntries ?? (asked !== tail ? Math.max(0, demux.entries - shown) : 0);
    const leaving = leading.findLastIndex((line) => line.entry < above) + 1;
    kept.leaveOutFirstLines(leaving);
    for (const line of leading.slice(0, leaving)) {
      lineCount -= line.pieces;
      if (line.stream === 'stderr') stderrLines -= line.pieces;
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

// How many frames (Docker's entries) a non-TTY container's log has for `options` (a read without follow; at most
// their tail), counted and not kept.
async function framesOf(
  container: Parameters<typeof readContainerLogs>[0],
  options: Record<string, unknown>,
  signal: AbortSignal,
): Promise<number> {
  const frames = new FrameCounter();
  await readContainerLogs(container, options, signal, (chunk) => frames.push(chunk));
  return frames.count;
}

// How many of a TTY container's lines for `options` (a read without follow or timestamps; at most their tail) start
// above the last `shown` entries, its entries counted from the lines' raw length.
async function ttyLinesAbove(
  container: Parameters<typeof readContainerLogs>[0],
  options: Record<string, unknown>,
  shown: number,
  maxLineChars: number,
  signal: AbortSignal,
): Promise<number> {
  const demux = new LogDemuxer(true, maxLineChars);
  const starts: number[] = [];
  const take = (found: LogLine[]) => {
    for (const line of found) if (line.part === undefined || line.part === 'first') starts.push(line.entry);
  };
  await readContainerLogs(container, options, signal, (chunk) => take(demux.push(chunk)));
  take(demux.end());
  const above = Math.max(0, demux.entries - shown);
  return starts.filter((entry) => entry < above).length;
}
