import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { jsonArtifactOf, readOutputSchema } from '../../artifact.ts';
import { K8S_NAME_PATTERN, kubeCall, loadKubeConfig } from './client.ts';

/** Input of k8s.events. */
export type EventsInput = {
  namespace?: string;
  kind?: string;
  name?: string;
  type?: 'Normal' | 'Warning';
  limit?: number;
  context?: string;
};

/** Pages of events k8s.events reads at most (following the API's `continue`), and events. */
export const EVENTS_MAX_PAGES = 10;
export const EVENTS_MAX_OBJECTS = 5000;

// One event as the client answers it (times as Date objects).
type Event = import('@kubernetes/client-node').CoreV1Event;

// When an event last happened, as RFC 3339 (UTC), or undefined when it carries no time.
function lastSeen(e: Event): string | undefined {
  for (const time of [
    e.lastTimestamp,
    e.series?.lastObservedTime,
    e.eventTime,
    e.metadata?.creationTimestamp,
  ]) {
    if (time === undefined || time === null) continue;
    const date = time instanceof Date ? time : new Date(String(time));
    if (!Number.isNaN(date.getTime())) return date.toISOString();
  }
  return undefined;
}

// How many times an event happened: Kubernetes folds repeats into one object with a count (or a series).
function occurrences(e: Event): number {
  return Math.max(e.count ?? 0, e.series?.count ?? 0, 1);
}

/** `k8s.events`: a namespace's events (optionally about one object), summarised by type and reason. */
export const k8sEventsAction: ActionDefinition<EventsInput, ReadOutput<Record<string, unknown>>> = {
  name: 'k8s.events',
  version: '1.0.0',
  description: `Events of a namespace, or of one object: occurrences by reason, warnings, the 10 latest (newest first). Reads the API's pages (limit events each) up to ${EVENTS_MAX_PAGES} pages or ${EVENTS_MAX_OBJECTS} events (summary.truncated says so); a listing whose continue token expires (410) starts over once.`,
  risk: 'read',
  timeouts: { defaultMs: 30_000, maxMs: 120_000 },
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      namespace: { type: 'string', pattern: K8S_NAME_PATTERN, default: 'default' },
      kind: {
        type: 'string',
        pattern: '^[A-Z][A-Za-z]{0,62}$',
        description: 'involvedObject.kind, like Pod.',
      },
      name: { type: 'string', pattern: K8S_NAME_PATTERN, description: 'involvedObject.name.' },
      type: { enum: ['Normal', 'Warning'] },
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        default: 500,
        description: `Events a page (the API's limit); pages are read until the last, at most ${EVENTS_MAX_PAGES} of them or ${EVENTS_MAX_OBJECTS} events.`,
      },
      context: { type: 'string', minLength: 1 },
    },
  },
  outputSchema: readOutputSchema({
    type: 'object',
    required: ['namespace', 'objects', 'count', 'warnings', 'byReason', 'latest', 'truncated'],
    properties: {
      namespace: { type: 'string' },
      objects: { type: 'integer', description: 'Event objects read.' },
      count: {
        type: 'integer',
        description: "Occurrences: each event object's count summed (Kubernetes folds repeats into one).",
      },
      warnings: { type: 'integer', description: 'Occurrences of Warning events.' },
      byReason: {
        type: 'object',
        additionalProperties: { type: 'integer' },
        description: 'Occurrences by reason.',
      },
      latest: {
        type: 'array',
        description: 'The 10 events seen last, newest first; lastTimestamp in RFC 3339 (UTC).',
        items: { type: 'object' },
      },
      truncated: {
        type: 'boolean',
        description: `true when more events were left than the ${EVENTS_MAX_PAGES} pages or ${EVENTS_MAX_OBJECTS} events read: the counts are of those read.`,
      },
      remainingObjects: {
        type: 'integer',
        description: 'When truncated, the events the API said were left (when it says).',
      },
    },
  }),
  async handler(input, context) {
    const config = await loadKubeConfig(context.env, input.context);
    const { CoreV1Api } = await import('@kubernetes/client-node');
    const api = config.makeApiClient(CoreV1Api);
    const namespace = input.namespace ?? 'default';
    const selector = [
      input.kind ? `involvedObject.kind=${input.kind}` : '',
      input.name ? `involvedObject.name=${input.name}` : '',
      input.type ? `type=${input.type}` : '',
    ]
      .filter(Boolean)
      .join(',');
    const limit = input.limit ?? 500;
    const items: Event[] = [];
    let next: string | undefined;
    let remaining: number | undefined;
    let restarted = false;
    const what = `events of namespace ${namespace}`;
    const readPage = () =>
      kubeCall(
        what,
        context.signal,
        (options) =>
          api.listNamespacedEvent(
            {
              namespace,
              limit: Math.min(limit, EVENTS_MAX_OBJECTS - items.length),
              ...(selector ? { fieldSelector: selector } : {}),
              ...(next ? { _continue: next } : {}),
            },
            options,
          ),
        "Change what the API's message names among the filters (kind, name, type) or limit.",
      );
    for (let page = 0; page < EVENTS_MAX_PAGES && items.length < EVENTS_MAX_OBJECTS; page++) {
      let list: Awaited<ReturnType<typeof readPage>>;
      try {
        list = await readPage();
      } catch (error) {
        // 410 Expired on a `continue`: the API server no longer holds the list's snapshot (it compacted past it while
        // the pages were read). As client-go's pager for an expired continue, the listing starts over once without it.
        if (!(next && error instanceof DvmError && error.details.status === 410)) throw error;
        if (restarted) {
          throw new DvmError(
            'DVM_CONNECTOR_UNAVAILABLE',
            `the Kubernetes API expired the listing of ${what} twice while its pages were read (410${error.details.reason ? ` ${error.details.reason}` : ''}: its continue token was too old)`,
            {
              fix: 'Run the action again; a larger limit reads the events in fewer pages.',
              details: { ...error.details, origin: 'system' },
            },
          );
        }
        restarted = true;
        items.length = 0;
        next = undefined;
        remaining = undefined;
        page = -1;
        continue;
      }
      items.push(...(list.items ?? []));
      next = list.metadata?._continue || undefined;
      remaining = list.metadata?.remainingItemCount;
      if (!next) break;
    }
    const byReason: Record<string, number> = {};
    let count = 0;
    let warnings = 0;
    for (const e of items) {
      const n = occurrences(e);
      count += n;
      if (e.type === 'Warning') warnings += n;
      byReason[e.reason ?? 'Unknown'] = (byReason[e.reason ?? 'Unknown'] ?? 0) + n;
    }
    const seen = items.map((e) => ({ e, at: lastSeen(e) }));
    // Newest first, by time (not text); events without a time last.
    const latest = seen
      .sort((a, b) => (b.at ? Date.parse(b.at) : -Infinity) - (a.at ? Date.parse(a.at) : -Infinity) || 0)
      .slice(0, 10)
      .map(({ e, at }) => ({
        type: e.type,
        reason: e.reason,
        object: `${e.involvedObject?.kind}/${e.involvedObject?.name}`,
        message: e.message,
        ...(at ? { lastTimestamp: at } : {}),
        count: occurrences(e),
      }));
    return {
      summary: {
        namespace,
        objects: items.length,
        count,
        warnings,
        byReason,
        latest,
        truncated: next !== undefined,
        ...(next !== undefined && remaining !== undefined ? { remainingObjects: remaining } : {}),
      },
      // The first events that fit the cap, whole: the content always parses.
      artifact: jsonArtifactOf(items, context.maxOutputBytes, { keep: 'head' }),
    };
  },
};
