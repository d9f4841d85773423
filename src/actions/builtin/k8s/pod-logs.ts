import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { artifactOf, READ_OUTPUT_SCHEMA } from '../../artifact.ts';
import { parseDuration } from '../duration.ts';
import { K8S_NAME_PATTERN, kubeCall, loadKubeConfig } from './client.ts';
import { followPodLog } from './pod-logs-follow.ts';

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
      kubeCall(`pod ${namespace}/${input.pod}`, context.signal, () =>
        api.readNamespacedPodLog({
          name: input.pod,
          namespace,
          container: input.container,
          ...(lines === undefined ? {} : { tailLines: lines }),
          previous: input.previous ?? false,
          ...(sinceSeconds ? { sinceSeconds } : {}),
        }),
      );
    const lineCount = (body: string) => (body === '' ? 0 : body.replace(/\n$/, '').split('\n').length);
    // As docker.logs: a tail asks for one line more, read only for what it opens (a tail that would start on a
    // secret's value below its key leaves that value out). A read knows at its end whether the log had that line; a
    // follow cannot tell it from the first new line, so a read without follow asks first.
    let extra = tailLines !== undefined && tailLines > 0;
    if (extra && input.follow)
      extra = lineCount(String((await read((tailLines ?? 0) + 1)) ?? '')) > (tailLines ?? 0);
    const asked = extra ? (tailLines ?? 0) + 1 : tailLines;
    if (input.follow) {
      const followed = await followPodLog(
        config,
        {
          namespace,
          pod: input.pod,
          container: input.container,
          ...(asked === undefined ? {} : { tailLines: asked }),
          previous: input.previous ?? false,
          ...(sinceSeconds ? { sinceSeconds } : {}),
          contextFirst: extra,
        },
        context,
      );
      return {
        summary: {
          namespace,
          pod: input.pod,
          ...(input.container ? { container: input.container } : {}),
          lines: followed.lines,
          truncated: followed.artifact.truncated,
          followed: true,
        },
        artifact: followed.artifact,
      };
    }
    const body = String((await read(asked)) ?? '');
    const lines = lineCount(body);
    // The API server had the line more that was asked for: the first line is that context, not output.
    const withContext = extra && lines > (tailLines ?? 0);
    const artifact = artifactOf(body, context.maxOutputBytes, { leadingContext: withContext });
    return {
      summary: {
        namespace,
        pod: input.pod,
        ...(input.container ? { container: input.container } : {}),
        lines: withContext ? lines - 1 : lines,
        truncated: artifact.truncated,
      },
      artifact,
    };
  },
};
