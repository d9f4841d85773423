import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionDefinition, Artifact, ReadOutput } from '../../action.ts';
import { artifactOf, READ_OUTPUT_SCHEMA, SOURCE_CONTEXT_LINES } from '../../artifact.ts';
import { parseDuration } from '../duration.ts';
import { K8S_NAME_PATTERN, kubeCall, loadKubeConfig } from './client.ts';
import { followPodLog, podLogRefusedFix } from './pod-logs-follow.ts';

/** Input of k8s.pod_logs. */
export type PodLogsInput = {
  namespace?: string;
  pod: string;
  container?: string;
  tail?: number;
  since?: string;
  previous?: boolean;
  follow?: boolean;
  context?: string;
};

// `since` in milliseconds; the schema's pattern checked its form, so only a duration past 100 years is refused here.
function sinceMs(since: string): number {
  try {
    return parseDuration(since);
  } catch {
    throw new DvmError(
      'DVM_ACTION_INPUT_INVALID',
      `since ${JSON.stringify(since)} is longer than 100 years`,
      {
        fix: 'Give since as a duration back from now of at most 100 years, like 10m or 1h30m.',
        path: 'since',
        details: { origin: 'user' },
      },
    );
  }
}

/** Lines from the end k8s.pod_logs returns when neither tail nor since is given. */
export const DEFAULT_POD_TAIL = 100;

/** `k8s.pod_logs`: the tail of a pod container's log, or every line since a time. */
export const k8sPodLogsAction: ActionDefinition<PodLogsInput, ReadOutput<Record<string, unknown>>> = {
  name: 'k8s.pod_logs',
  version: '1.0.0',
  description:
    "The tail of a pod's log, or every line since a time (one container; the previous instance with previous: true); follow streams new lines.",
  risk: 'read',
  longRunning: (input) => input.follow === true,
  // A follow runs up to the maximum (until the log ends or it is cancelled), as docker.logs' does.
  timeouts: { defaultMs: 30_000, maxMs: 3_600_000 },
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['pod'],
    properties: {
      namespace: { type: 'string', pattern: K8S_NAME_PATTERN, default: 'default' },
      pod: { type: 'string', pattern: K8S_NAME_PATTERN },
      container: { type: 'string', pattern: K8S_NAME_PATTERN },
      // No schema default: validation would fill it in, and "since without tail" could not be told apart.
      tail: {
        type: 'integer',
        minimum: 0,
        maximum: 10_000,
        description: `Lines from the end; when not given, ${DEFAULT_POD_TAIL}, or every line since \`since\` when that is given.`,
      },
      since: {
        type: 'string',
        pattern: '^([0-9]+(ms|s|m|h|d))+$',
        description: 'A duration back from now, like 10m.',
      },
      previous: { type: 'boolean', default: false },
      follow: {
        type: 'boolean',
        default: false,
        description: 'Stream new lines until the log ends or the action stops (202 + SSE).',
      },
      context: { type: 'string', minLength: 1, description: 'kubeconfig context (default the current one).' },
    },
  },
  outputSchema: READ_OUTPUT_SCHEMA,
  async handler(input, context) {
    const config = await loadKubeConfig(context.env, input.context);
    const { CoreV1Api } = await import('@kubernetes/client-node');
    const api = config.makeApiClient(CoreV1Api);
    const namespace = input.namespace ?? 'default';
    const sinceSeconds = input.since ? Math.max(1, Math.ceil(sinceMs(input.since) / 1000)) : undefined;
    // As `kubectl logs --since`: with since and no tail, every line since then (the artifact's cap keeps the end).
    const tailLines = input.tail ?? (sinceSeconds ? undefined : DEFAULT_POD_TAIL);
    const read = (lines: number | undefined) =>
      kubeCall(
        `pod ${namespace}/${input.pod}`,
        context.signal,
        (options) =>
          api.readNamespacedPodLog(
            {
              name: input.pod,
              namespace,
              container: input.container,
              ...(lines === undefined ? {} : { tailLines: lines }),
              previous: input.previous ?? false,
              ...(sinceSeconds ? { sinceSeconds } : {}),
            },
            options,
          ),
        podLogRefusedFix(namespace, input.pod),
      );
    // As docker.logs: a tail asks for SOURCE_CONTEXT_LINES lines more, read only for what they open (a tail that
    // would start on a secret's value below its key leaves that value out). A read knows at its end how many of them
    // the log had; a follow cannot tell them from new lines, so it counts them first with a read.
    const shown = tailLines ?? 0;
    const asked = shown > 0 ? shown + SOURCE_CONTEXT_LINES : tailLines;
    const summaryOf = (lines: number, artifact: Artifact, followed?: true) => ({
      summary: {
        namespace,
        pod: input.pod,
        ...(input.container ? { container: input.container } : {}),
        lines,
        truncated: artifact.truncated,
        ...(followed ? { followed } : {}),
      },
      artifact,
    });
    if (input.follow) {
      let contextLines = 0;
      if (asked !== tailLines) {
        try {
          contextLines = Math.max(0, lineCount(String((await read(asked)) ?? '')) - shown);
        } catch (error) {
          // A follow stopped while it counted ends with nothing, as one stopped before its first line.
          if (context.signal.aborted) return summaryOf(0, artifactOf('', context.maxOutputBytes), true);
          throw error;
        }
      }
      const followed = await followPodLog(
        config,
        {
          namespace,
          pod: input.pod,
          container: input.container,
          ...(asked === undefined ? {} : { tailLines: asked }),
          previous: input.previous ?? false,
          ...(sinceSeconds ? { sinceSeconds } : {}),
          contextLines,
        },
        context,
      );
      return summaryOf(followed.lines, followed.artifact, true);
    }
    const body = String((await read(asked)) ?? '');
    const lines = lineCount(body);
    // The lines the API server had past the tail are not output.
    const above = asked !== tailLines ? Math.max(0, lines - shown) : 0;
    return summaryOf(lines - above, artifactOf(body, context.maxOutputBytes, { leadingContext: above }));
  },
};

// The lines of a log's text.
function lineCount(body: string): number {
  return body === '' ? 0 : body.replace(/\n$/, '').split('\n').length;
}
