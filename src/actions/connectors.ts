import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { delimiter, join } from 'node:path';
import { kubeconfigFiles, kubeErrorLine, loadKubeConfig } from './builtin/k8s/client.ts';
/** Readiness of one connector (as `GET /v1/health` reports it). */
export interface ConnectorHealth {
  status: 'ok' | 'unavailable' | 'error';
  detail: string;
}

/** A connector's readiness check; it never throws. */
export type HealthCheck = () => Promise<ConnectorHealth>;

const TIMEOUT_MS = 2000;

/**
 * `text` with the user and password of every URL in it written `***`: health details are answered to any token,
 * a viewer's too.
 */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1***@');
}

/**
 * Where the Docker Engine API listens: DOCKER_HOST (unix:// or tcp://), else /var/run/docker.sock; `invalid`
 * says why a DOCKER_HOST cannot be used. The label never shows credentials.
 */
export function dockerEndpoint(env: Record<string, string | undefined>): {
  socketPath?: string;
  host?: string;
  port?: number;
  label: string;
  invalid?: string;
} {
  const host = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  const label = withoutUrlCredentials(host);
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length), label };
  try {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    return { host: url.hostname, port: Number(url.port || 2375), label };
  } catch {
    return { label, invalid: `DOCKER_HOST "${label}" is not a URL (unix:///path or tcp://host:port)` };
  }
}

/** Readiness of the Docker daemon: `GET /version` of its Engine API. */
export function dockerHealth(env: Record<string, string | undefined>): HealthCheck {
  const endpoint = dockerEndpoint(env);
  return () =>
    new Promise((resolve) => {
      if (endpoint.invalid) return resolve({ status: 'error', detail: endpoint.invalid });
      const req = request(
        {
          socketPath: endpoint.socketPath,
          host: endpoint.host,
          port: endpoint.port,
          path: '/version',
          timeout: TIMEOUT_MS,
        },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => {
            try {
              const version = JSON.parse(body) as { Version?: string; ApiVersion?: string };
              resolve(
                res.statusCode === 200
                  ? {
                      status: 'ok',
                      detail: `Docker ${version.Version} (API ${version.ApiVersion}) at ${endpoint.label}`,
                    }
                  : { status: 'error', detail: `Docker at ${endpoint.label} answered ${res.statusCode}` },
              );
            } catch {
              resolve({ status: 'error', detail: `${endpoint.label} does not speak the Docker Engine API` });
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer')));
      req.on('error', (error) =>
        resolve({ status: 'unavailable', detail: `no Docker daemon at ${endpoint.label}: ${error.message}` }),
      );
      req.end();
    });
}

/** Readiness of the JVM tools: `jcmd` (from JAVA_HOME/bin or PATH) and the JDK version it reports. */
export function jvmHealth(env: Record<string, string | undefined>): HealthCheck {
  const jcmd =
    env.JAVA_HOME && existsSync(join(env.JAVA_HOME, 'bin', 'jcmd'))
      ? join(env.JAVA_HOME, 'bin', 'jcmd')
      : 'jcmd';
  return () =>
    new Promise((resolve) => {
      execFile(jcmd, ['-h'], { env: env as NodeJS.ProcessEnv, timeout: TIMEOUT_MS }, (error) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          resolve({ status: 'unavailable', detail: 'jcmd not found (install a JDK, or set JAVA_HOME)' });
          return;
        }
        // An exit status says jcmd ran; a spawn error (EACCES, …) or a kill at the time limit says it cannot.
        if (error && (typeof error.code !== 'number' || error.killed)) {
          resolve({ status: 'error', detail: `${jcmd} cannot run: ${error.message}` });
          return;
        }
        execFile(
          'java',
          ['-version'],
          { env: env as NodeJS.ProcessEnv, timeout: TIMEOUT_MS },
          (_e, _out, stderr) => {
            const version = /version "([^"]+)"/.exec(String(stderr))?.[1];
            resolve({ status: 'ok', detail: `jcmd available${version ? ` (JDK ${version})` : ''}` });
          },
        );
      });
    });
}

/** Readiness of Kubernetes: a kubeconfig (KUBECONFIG, else ~/.kube/config) whose server answers `GET /version`. */
export function kubernetesHealth(env: Record<string, string | undefined>): HealthCheck {
  return async () => {
    const files = kubeconfigFiles(env).filter((f) => existsSync(f));
    if (files.length === 0) {
      return { status: 'unavailable', detail: 'no kubeconfig (set KUBECONFIG or create ~/.kube/config)' };
    }
    const file = files.join(delimiter);
    try {
      // KUBECONFIG merged as the k8s actions (and kubectl) read it.
      const config = await loadKubeConfig(env);
      const { VersionApi } = await import('@kubernetes/client-node');
      // loadKubeConfig answers only a config whose current context has a cluster.
      const server = config.getCurrentCluster()?.server ?? '';
      const version = await Promise.race([
        config.makeApiClient(VersionApi).getCode(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('no answer within 2 s')), TIMEOUT_MS).unref(),
        ),
      ]);
      return {
        status: 'ok',
        detail: `Kubernetes ${version.gitVersion} at ${withoutUrlCredentials(server)}`,
      };
    } catch (error) {
      // One line: the status and the API's message, never the client's dump of headers and body.
      return {
        status: 'unavailable',
        detail: `kubeconfig ${file}: ${withoutUrlCredentials(kubeErrorLine(error))}`,
      };
    }
  };
}

/** The readiness checks of the ops connectors. */
export function connectorChecks(env: Record<string, string | undefined>): Record<string, HealthCheck> {
  return { docker: dockerHealth(env), kubernetes: kubernetesHealth(env), jvm: jvmHealth(env) };
}
