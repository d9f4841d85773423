import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { ConfigurationOptions, KubeConfig, ObservableMiddleware } from '@kubernetes/client-node';
import { DvmError } from '../../../errors/dvm-error.ts';

/** Names of namespaces, pods, containers and deployments (RFC 1123 DNS labels/subdomains). */
export const K8S_NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';

/** The kubeconfig files, as kubectl reads them: each of the KUBECONFIG list, else ~/.kube/config. */
export function kubeconfigFiles(env: Record<string, string | undefined>): string[] {
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (listed.length > 0) return listed;
  return env.HOME ? [join(env.HOME, '.kube', 'config')] : [];
}

/**
 * Loads the kubeconfig as kubectl does: the files of KUBECONFIG merged (a missing or empty one skipped; the first file
 * to name a cluster, user or context, or to set current-context, wins), then the context named, if any. A missing,
 * empty or unreadable kubeconfig is DVM_CONNECTOR_UNAVAILABLE; an unknown context, DVM_ACTION_INPUT_INVALID.
 */
export async function loadKubeConfig(
  env: Record<string, string | undefined>,
  context?: string,
): Promise<KubeConfig> {
  const files = kubeconfigFiles(env);
  const label = files.join(delimiter) || '~/.kube/config';
  // kubectl (client-go's Load) takes a file with no content for an empty config: it adds nothing to the merge.
  const texts = files
    .filter((file) => existsSync(file))
    .map((file) => ({ file, text: readKubeconfig(file) }));
  const present = texts.filter(({ text }) => !isBlankYaml(text));
  if (present.length === 0) {
    const empty = texts.length > 0 ? ` (${texts.length === 1 ? 'the file is' : 'every file is'} empty)` : '';
    throw new DvmError('DVM_CONNECTOR_UNAVAILABLE', `no kubeconfig at ${label}${empty}`, {
      fix: 'Set KUBECONFIG to a kubeconfig file, or a list of them (or create ~/.kube/config).',
      details: { origin: 'system' },
    });
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  const merged: Pick<KubeConfig, 'clusters' | 'users' | 'contexts'> & { currentContext?: string } = {
    clusters: [],
    users: [],
    contexts: [],
  };
  for (const { file, text } of present) {
    const one = new KubeConfig();
    try {
      // As loadFromFile: relative paths (certificate-authority, …) resolve against the file's own directory.
      one.loadFromString(text);
      one.makePathsAbsolute(dirname(file));
    } catch (error) {
      throw new DvmError(
        'DVM_CONNECTOR_UNAVAILABLE',
        `kubeconfig ${file} cannot be read: ${firstLine((error as Error).message)}`,
        { fix: 'Fix the kubeconfig file.', details: { origin: 'system' } },
      );
    }
    const add = <T extends { name: string }>(into: T[], from: T[]) => {
      for (const item of from) if (!into.some((known) => known.name === item.name)) into.push(item);
    };
    add(merged.clusters, one.getClusters());
    add(merged.users, one.getUsers());
    add(merged.contexts, one.getContexts());
    merged.currentContext ||= one.getCurrentContext() || undefined;
  }
  config.loadFromOptions(merged);
  const where =
    present.length === 1
      ? `kubeconfig ${present[0]?.file}`
      : `kubeconfigs ${present.map(({ file }) => file).join(delimiter)}`;
  const names = config.getContexts().map((c) => c.name);
  if (context) {
    if (!names.includes(context)) {
      throw new DvmError('DVM_ACTION_INPUT_INVALID', `${where} has no context "${context}"`, {
        fix: names.length ? `Use one of: ${names.join(', ')}.` : `Add a context to ${where}.`,
        path: 'context',
        details: { origin: 'user' },
      });
    }
    config.setCurrentContext(context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) {
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `${where}: no current context with a cluster (current-context "${config.getCurrentContext() ?? ''}")`,
      {
        fix: names.length
          ? `Pass context (one of: ${names.join(', ')}), or set current-context to one whose cluster is defined.`
          : `Add a cluster and a context to ${where}.`,
        details: { origin: 'system' },
      },
    );
  }
  // The client refuses plain HTTP unless TLS checks are off or the cluster has a proxy-url (its createDispatcherOptions
  // checks the server only when there is no proxy); say so, not "cannot reach".
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify && !cluster.proxyUrl) {
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `${where}: cluster "${cluster.name}" has a plain http:// server address, which the Kubernetes client refuses without insecure-skip-tls-verify`,
      {
        fix: `Use the API server's https:// address, or, for a plain-HTTP test cluster, set "insecure-skip-tls-verify: true" on cluster "${cluster.name}".`,
        details: { origin: 'system' },
      },
    );
  }
  return config;
}

// A kubeconfig file's text; one that cannot be read is DVM_CONNECTOR_UNAVAILABLE.
function readKubeconfig(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `kubeconfig ${file} cannot be read: ${firstLine((error as Error).message)}`,
      { fix: 'Fix the kubeconfig file (or its permissions).', details: { origin: 'system' } },
    );
  }
}

// Text with no YAML document in it: nothing but whitespace and comments (an empty file).
function isBlankYaml(text: string): boolean {
  return text.split(/\r?\n/).every((line) => /^\s*(#.*)?$/.test(line));
}

/** Request options for a client-node API call that give it `signal`: an abort closes its connection. */
export async function abortable(signal: AbortSignal): Promise<ConfigurationOptions> {
  // The API classes pass request options to their Observable layer: its middleware answers the client's Observable.
  const { Observable } = await import('@kubernetes/client-node');
  const middleware: ObservableMiddleware = {
    pre: (request) => {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  // Appended: the client's own middleware (its User-Agent) stays.
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/**
 * Runs an API call with request options that abort it with `signal` (the connection is closed: the process does not
 * wait for the API's answer), turning API failures into coded errors that name the object (`refusedFix`: the fix of a
 * request the API refused as asked, see kubeError).
 */
export async function kubeCall<T>(
  what: string,
  signal: AbortSignal,
  call: (options: ConfigurationOptions) => Promise<T>,
  refusedFix?: string,
): Promise<T> {
  if (signal.aborted) throw signal.reason;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([abortable(signal).then(call), aborted]);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw kubeError(what, error, refusedFix);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** An API answer that is not a success, shaped as the client's ApiException (`code`, `body`). */
export function apiFailure(status: number, body: string): Error {
  return Object.assign(new Error(`HTTP ${status}`), { code: status, body });
}

// The Status the API answered with (its message and reason), from a body as text or already parsed.
function statusOf(body: unknown): { message?: string; reason?: string } {
  try {
    const parsed = typeof body === 'string' ? JSON.parse(body) : body;
    if (parsed && typeof parsed === 'object') {
      const { message, reason } = parsed as { message?: unknown; reason?: unknown };
      return {
        ...(typeof message === 'string' ? { message: firstLine(message) } : {}),
        ...(typeof reason === 'string' ? { reason } : {}),
      };
    }
  } catch {}
  return typeof body === 'string' && body.trim() ? { message: firstLine(body).slice(0, 300) } : {};
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * One line for a failed Kubernetes API call: `HTTP 500 (InternalError): the API's message`, or the network error and
 * its cause; never the client's multi-line dump of headers and body.
 */
export function kubeErrorLine(error: unknown): string {
  const e = error as {
    code?: unknown;
    body?: unknown;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (typeof e?.code === 'number') {
    const { message, reason } = statusOf(e.body);
    return `HTTP ${e.code}${reason ? ` (${reason})` : ''}${message ? `: ${message}` : ''}`;
  }
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${firstLine(e?.message ?? String(error))}${cause ? ` (${firstLine(cause)})` : ''}`;
}

/** The fix of a request the API refused as asked, when the action gives none of its own. */
export const KUBE_REFUSED_FIX = "Change what the API's message names in the action's parameters.";

/**
 * A failed API call as a coded error: 404 DVM_TARGET_NOT_FOUND; 401/403 DVM_FORBIDDEN with details.source
 * "kubernetes" (the cluster refused the kubeconfig's user, not dvm's policy); 409 DVM_CONFLICT; any other 4xx but
 * 408/429 DVM_ACTION_INPUT_INVALID (the API refused the request as asked: origin user; its fix `refusedFix`, the
 * action's own wording, else a neutral one); 5xx, 408, 429 and no answer DVM_CONNECTOR_UNAVAILABLE. Each keeps the
 * API's own message.
 */
export function kubeError(what: string, error: unknown, refusedFix = KUBE_REFUSED_FIX): DvmError {
  const e = error as { code?: number | string; body?: unknown };
  const status = typeof e?.code === 'number' ? e.code : undefined;
  if (status === undefined) {
    return new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `cannot reach the Kubernetes API for ${what}: ${kubeErrorLine(error)}`,
      {
        fix: "Check the kubeconfig's server address and that the cluster is up.",
        details: { origin: 'system', source: 'kubernetes' },
      },
    );
  }
  const { message, reason = status === 401 ? 'Unauthorized' : undefined } = statusOf(e.body);
  const said = `${status}${reason ? ` ${reason}` : ''}${message ? `: ${message}` : ''}`;
  const details = { source: 'kubernetes', status, ...(reason ? { reason } : {}) };
  if (status === 404) {
    return new DvmError('DVM_TARGET_NOT_FOUND', `${what} not found${message ? `: ${message}` : ''}`, {
      fix: 'Check the namespace and name (kubectl get …).',
      details: { origin: 'user', ...details },
    });
  }
  if (status === 401) {
    return new DvmError(
      'DVM_FORBIDDEN',
      `the Kubernetes API did not accept the kubeconfig's credentials for ${what} (${said}); dvm's policy allowed the action`,
      {
        fix: "Renew the kubeconfig user's token or certificate (the cluster refused it, not dvm).",
        details: { origin: 'system', ...details },
      },
    );
  }
  if (status === 403) {
    return new DvmError(
      'DVM_FORBIDDEN',
      `Kubernetes RBAC refused ${what} to the kubeconfig's user (${said}); dvm's policy allowed the action`,
      {
        fix: "Grant the kubeconfig's user this verb on this resource in the cluster (kubectl auth can-i …; examples/agent-deploy/kubernetes-rbac.yaml is what the k8s actions need).",
        details: { origin: 'system', ...details },
      },
    );
  }
  if (status === 409) {
    return new DvmError(
      'DVM_CONFLICT',
      `the Kubernetes API refused ${what}: it changed meanwhile (${said})`,
      {
        fix: 'Run the action again: it reads the current object first.',
        details: { origin: 'user', ...details },
      },
    );
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new DvmError('DVM_ACTION_INPUT_INVALID', `the Kubernetes API refused ${what} (${said})`, {
      fix: refusedFix,
      details: { origin: 'user', ...details },
    });
  }
  return new DvmError('DVM_CONNECTOR_UNAVAILABLE', `the Kubernetes API answered ${said} for ${what}`, {
    fix: 'See the API server and its logs; run the action again once it answers.',
    details: { origin: 'system', ...details },
  });
}
