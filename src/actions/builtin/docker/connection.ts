import type Dockerode from 'dockerode';
import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionContext } from '../../action.ts';

/** Where the Docker Engine API listens: DOCKER_HOST (unix:// or tcp://), else /var/run/docker.sock. */
export function dockerTarget(env: Record<string, string | undefined>): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** A dockerode client for DOCKER_HOST (loaded lazily: `dvm run` never pays for it). */
export async function dockerClient(env: Record<string, string | undefined>): Promise<Dockerode> {
  const { default: Docker } = await import('dockerode');
  const host = dockerTarget(env);
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  if (/^(tcp|http):\/\//.test(host)) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
  }
  throw new DvmError('DVM_CONNECTOR_UNAVAILABLE', `DOCKER_HOST "${host}" is not unix:// or tcp://`, {
    fix: 'Set DOCKER_HOST to unix:///path/to/docker.sock or tcp://host:port.',
  });
}

/**
 * Turns a dockerode error into a coded one: 404 → DVM_TARGET_NOT_FOUND; 409 → DVM_CONFLICT (the container's state
 * does not allow it now); 501 → DVM_TASK_FAILED (Docker cannot do it for this container, like reading the log of a
 * `--log-driver none` one); any other 4xx → DVM_ACTION_INPUT_INVALID; an id prefix several containers share →
 * DVM_AMBIGUOUS, all five origin user; unreachable and 5xx →
 * DVM_CONNECTOR_UNAVAILABLE. Each keeps Docker's own message.
 */
export function dockerError(
  error: unknown,
  container: string,
  env: Record<string, string | undefined>,
): unknown {
  const e = error as { statusCode?: number; code?: string; message?: string; json?: { message?: string } };
  if (e?.statusCode === 404) {
    return new DvmError('DVM_TARGET_NOT_FOUND', `no container "${container}" on ${dockerTarget(env)}`, {
      fix: 'Check the name or id with `docker ps -a`.',
      details: { container, origin: 'user' },
    });
  }
  if (e?.code && ['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH'].includes(e.code)) {
    return new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `cannot reach the Docker daemon at ${dockerTarget(env)}: ${e.code}`,
      {
        fix: 'Start the Docker daemon, or point DOCKER_HOST at it.',
        details: { origin: 'system' },
      },
    );
  }
  if (isAmbiguousPrefix(error)) {
    return new DvmError(
      'DVM_AMBIGUOUS',
      `"${container}" is the start of several containers' ids on ${dockerTarget(env)}`,
      {
        path: 'container',
        fix: 'Give more characters of the id (`docker ps -a --no-trunc` lists them), or the container name.',
        details: { container, origin: 'user' },
      },
    );
  }
  if (e?.statusCode !== undefined) {
    const status = e.statusCode;
    // Docker's own message: its JSON answer's, else dockerode's "(HTTP code N) reason - message" without the prefix.
    const said = (e.json?.message ?? e.message ?? '').replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
    const details = { container, origin: 'user', status };
    if (status === 409) {
      return new DvmError('DVM_CONFLICT', `Docker refused it for container "${container}" (409): ${said}`, {
        fix: "The container's state does not allow it now (`docker inspect` shows it); run it again once it has settled.",
        details,
      });
    }
    if (status === 501) {
      return new DvmError(
        'DVM_TASK_FAILED',
        `Docker cannot do it for container "${container}" (501): ${said}`,
        {
          fix: "It depends on how the container was created: a log can be read back only from the json-file, local or journald log driver (or with Docker's dual logging); read it where its driver sends it, or recreate the container with one of those.",
          details,
        },
      );
    }
    if (status >= 400 && status < 500) {
      return new DvmError(
        'DVM_ACTION_INPUT_INVALID',
        `Docker refused the request for container "${container}" (${status}): ${said}`,
        { fix: "Change what Docker's message names in the action's parameters.", details },
      );
    }
    return new DvmError('DVM_CONNECTOR_UNAVAILABLE', `Docker answered ${status}: ${said}`, {
      fix: 'See the Docker daemon log.',
      details: { origin: 'system', status },
    });
  }
  return error;
}

// Docker's answer to an id prefix that several containers share: 500 "Multiple IDs found with provided prefix".
function isAmbiguousPrefix(error: unknown): boolean {
  const e = error as { statusCode?: number; json?: { message?: string }; message?: string };
  return e?.statusCode === 500 && /multiple IDs found/i.test(e?.json?.message ?? e?.message ?? '');
}

/**
 * The input with its container named by its name, as policies decide on it: Docker takes a name, a full id or a
 * unique id prefix for one container, so a rule on the name holds whichever the caller sends. Undefined when Docker
 * knows no container by it: the input is then decided on as sent, and the action fails the same way. A prefix several
 * containers share (DVM_AMBIGUOUS) and any other failure (Docker unreachable, the request stopped) are thrown: the
 * request must not be decided on the alias.
 */
export async function canonicalContainer<Input extends { container: string }>(
  input: Input,
  context: ActionContext,
): Promise<Input | undefined> {
  let info: Dockerode.ContainerInspectInfo;
  try {
    const docker = await dockerClient(context.env);
    info = await inspectContainer(docker.getContainer(input.container), context.signal);
  } catch (error) {
    // No container by that name or id: the action fails the same way. An id prefix several share is refused here
    // (DVM_AMBIGUOUS): decided as sent, it would name one of them alone once the others are removed.
    if ((error as { statusCode?: number })?.statusCode === 404 && !context.signal.aborted) return undefined;
    throw dockerError(error, input.container, context.env);
  }
  const name = info.Name.replace(/^\//, '');
  return name === input.container ? input : { ...input, container: name };
}

/** Inspects a container, abortable. */
export function inspectContainer(
  container: Dockerode.Container,
  signal: AbortSignal,
): Promise<Dockerode.ContainerInspectInfo> {
  return container.inspect({
    abortSignal: signal,
  } as never) as unknown as Promise<Dockerode.ContainerInspectInfo>;
}

/**
 * Reads a container's log (`/containers/{id}/logs` with `options`), followed or not, as a stream handed to `chunk`
 * piece by piece, so a long log is never held whole; stopped by `signal`, it ends quietly with what was read.
 */
export async function readContainerLogs(
  container: Dockerode.Container,
  options: Record<string, unknown>,
  signal: AbortSignal,
  chunk: (data: Buffer) => void,
): Promise<void> {
  // dockerode buffers a log read without follow whole: the request is dialled as its logs() does, but streamed.
  const stream = await new Promise<NodeJS.ReadableStream & { destroy(): void }>((resolve, reject) => {
    container.modem.dial(
      {
        path: `/containers/${container.id}/logs?`,
        method: 'GET',
        abortSignal: signal,
        isStream: true,
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
        options,
      },
      (error: unknown, data: NodeJS.ReadableStream & { destroy(): void }) =>
        error ? reject(error) : resolve(data),
    );
  });
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      signal.removeEventListener('abort', stop);
      if (error && !signal.aborted) reject(error);
      else resolve();
    };
    const stop = () => {
      stream.destroy();
      done();
    };
    signal.addEventListener('abort', stop, { once: true });
    stream.on('data', chunk);
    stream.on('end', () => done());
    stream.on('error', (error: Error) => done(error));
    if (signal.aborted) stop();
  });
}
