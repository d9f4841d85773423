import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { DvmError } from '../../../errors/dvm-error.ts';

/** Names of namespaces, pods, containers and deployments (RFC 1123 DNS labels/subdomains). */
export const K8S_NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';

/** The kubeconfig file: the first of KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(env: Record<string, string | undefined>): string | undefined {
  const first = env.KUBECONFIG?.split(':').find(Boolean);
  if (first) return first;
  return env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
}

/** Loads the kubeconfig (and a context, when named); DVM_CONNECTOR_UNAVAILABLE when there is none. */
export async function loadKubeConfig(
  env: Record<string, string | undefined>,
  context?: string,
): Promise<KubeConfig> {
  const file = kubeconfigPath(env);
  if (!file || !existsSync(file)) {
    throw new DvmError('DVM_CONNECTOR_UNAVAILABLE', `no kubeconfig at ${file ?? '~/.kube/config'}`, {
      fix: 'Set KUBECONFIG to a kubeconfig file (or create ~/.kube/config).',
      details: { origin: 'system' },
    });
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  try {
    config.loadFromFile(file);
  } catch (error) {
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `kubeconfig ${file} cannot be read: ${(error as Error).message}`,
      {
        fix: 'Fix the kubeconfig file.',
        details: { origin: 'system' },
      },
    );
  }
  if (context) {
    if (!config.getContexts().some((c) => c.name === context)) {
      throw new DvmError('DVM_ACTION_INPUT_INVALID', `kubeconfig ${file} has no context "${context}"`, {
        fix: `Use one of: ${config
          .getContexts()
          .map((c) => c.name)
          .join(', ')}.`,
        path: 'context',
        details: { origin: 'user' },
      });
    }
    config.setCurrentContext(context);
  }
  return config;
}

/** Runs an API call, abortable, turning API failures into coded errors that name the object. */
export async function kubeCall<T>(what: string, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  if (signal.aborted) throw signal.reason;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(), aborted]);
  } catch (error) {
    const e = error as { code?: number | string; body?: unknown; message?: string };
    const status = typeof e.code === 'number' ? e.code : undefined;
    const message = (() => {
      try {
        return (typeof e.body === 'string' ? JSON.parse(e.body) : (e.body as { message?: string }))?.message;
      } catch {
        return undefined;
      }
    })();
    if (status === 404) {
      throw new DvmError('DVM_TARGET_NOT_FOUND', `${what} not found${message ? `: ${message}` : ''}`, {
        fix: 'Check the namespace and name (kubectl get …).',
        details: { origin: 'user' },
      });
    }
    if (status === 401 || status === 403) {
      throw new DvmError(
        'DVM_FORBIDDEN',
        `the Kubernetes API refused the kubeconfig's credentials for ${what} (${status})${message ? `: ${message}` : ''}`,
        {
          fix: 'Check the kubeconfig user (token or certificate) and its RBAC permissions.',
          details: { origin: 'system', status },
        },
      );
    }
    if (status !== undefined) {
      throw new DvmError(
        'DVM_CONNECTOR_UNAVAILABLE',
        `the Kubernetes API answered ${status} for ${what}${message ? `: ${message}` : ''}`,
        {
          fix: 'See the API server and its logs.',
          details: { origin: 'system', status },
        },
      );
    }
    if (signal.aborted) throw error;
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `cannot reach the Kubernetes API for ${what}: ${e.message ?? String(error)}`,
      {
        fix: 'Check the kubeconfig server address and that the cluster is up.',
        details: { origin: 'system' },
      },
    );
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
