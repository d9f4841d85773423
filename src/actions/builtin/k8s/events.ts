import type { ActionDefinition, ReadOutput } from '../../action.ts';
import { jsonArtifactOf, READ_OUTPUT_SCHEMA } from '../../artifact.ts';
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

/** `k8s.events`: a namespace's events (optionally about one object), summarised by type and reason. */
export const k8sEventsAction: ActionDefinition<EventsInput, ReadOutput<Record<string, unknown>>> = {
  name: 'k8s.events',
  version: '1.0.0',
  description: 'Events of a namespace, or of one object: counts by reason, warnings, the latest ones.',
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
      limit: { type: 'integer', minimum: 1, maximum: 1000, default: 500 },
      context: { type: 'string', minLength: 1 },
    },
  },
  outputSchema: READ_OUTPUT_SCHEMA,
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
    const list = await kubeCall(`events of namespace ${namespace}`, context.signal, () =>
      api.listNamespacedEvent({
        namespace,
        limit: input.limit ?? 500,
        ...(selector ? { fieldSelector: selector } : {}),
      }),
    );
    const items = list.items ?? [];
    const when = (e: (typeof items)[number]) =>
      String(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '');
    const byReason: Record<string, number> = {};
    for (const e of items)
      byReason[e.reason ?? 'Unknown'] = (byReason[e.reason ?? 'Unknown'] ?? 0) + (e.count ?? 1);
    const latest = [...items]
      .sort((a, b) => when(b).localeCompare(when(a)))
      .slice(0, 10)
      .map((e) => ({
        type: e.type,
        reason: e.reason,
        object: `${e.involvedObject?.kind}/${e.involvedObject?.name}`,
        message: e.message,
        lastTimestamp: when(e),
        count: e.count ?? 1,
      }));
    return {
      summary: {
        namespace,
        count: items.length,
        warnings: items.filter((e) => e.type === 'Warning').length,
        byReason,
        latest,
      },
      // The first events that fit the cap, whole: the content always parses.
      artifact: jsonArtifactOf(items, context.maxOutputBytes, { keep: 'head' }),
    };
  },
};
