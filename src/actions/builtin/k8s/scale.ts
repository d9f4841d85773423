import type { ActionDefinition } from '../../action.ts';
import { K8S_NAME_PATTERN, kubeCall, loadKubeConfig } from './client.ts';

/** Input of k8s.scale_deployment. */
export type ScaleInput = { namespace?: string; deployment: string; replicas: number; context?: string };

/** Output of k8s.scale_deployment. */
export type ScaleOutput = {
  namespace: string;
  deployment: string;
  previousReplicas: number;
  replicas: number;
};

/** `k8s.scale_deployment`: sets a deployment's replicas through its scale subresource (optimistic: resourceVersion). */
export const k8sScaleAction: ActionDefinition<ScaleInput, ScaleOutput> = {
  name: 'k8s.scale_deployment',
  version: '1.0.0',
  description: "Set a deployment's replica count (scale subresource), reporting the previous count.",
  risk: 'write',
  timeouts: { defaultMs: 30_000, maxMs: 120_000 },
  inputSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['deployment', 'replicas'],
    properties: {
      namespace: { type: 'string', pattern: K8S_NAME_PATTERN, default: 'default' },
      deployment: { type: 'string', pattern: K8S_NAME_PATTERN },
      replicas: { type: 'integer', minimum: 0, maximum: 1000 },
      context: { type: 'string', minLength: 1 },
    },
  },
  outputSchema: {
    type: 'object',
    required: ['namespace', 'deployment', 'previousReplicas', 'replicas'],
    properties: {
      namespace: { type: 'string' },
      deployment: { type: 'string' },
      previousReplicas: { type: 'integer' },
      replicas: { type: 'integer' },
    },
  },
  async handler(input, context) {
    const config = await loadKubeConfig(context.env, input.context);
    const { AppsV1Api } = await import('@kubernetes/client-node');
    const api = config.makeApiClient(AppsV1Api);
    const namespace = input.namespace ?? 'default';
    const what = `deployment ${namespace}/${input.deployment}`;
    const refused = `Change what the API's message names: replicas, or the deployment (kubectl describe deployment -n ${namespace} ${input.deployment}).`;
    const scale = await kubeCall(
      what,
      context.signal,
      (options) => api.readNamespacedDeploymentScale({ name: input.deployment, namespace }, options),
      refused,
    );
    const previousReplicas = scale.spec?.replicas ?? 0;
    context.emit?.({
      type: 'progress',
      message: `scaling ${what} from ${previousReplicas} to ${input.replicas} replicas`,
      percent: 50,
    });
    const updated = await kubeCall(
      what,
      context.signal,
      (options) =>
        api.replaceNamespacedDeploymentScale(
          {
            name: input.deployment,
            namespace,
            body: { ...scale, spec: { ...scale.spec, replicas: input.replicas } },
          },
          options,
        ),
      refused,
    );
    const replicas = updated.spec?.replicas ?? input.replicas;
    context.emit?.({ type: 'progress', message: `${what} scaled to ${replicas} replicas`, percent: 100 });
    return {
      namespace,
      deployment: input.deployment,
      previousReplicas,
      replicas,
    };
  },
};
