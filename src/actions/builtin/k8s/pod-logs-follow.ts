import { Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ActionContext, Artifact } from '../../action.ts';
import { TailArtifact } from '../../artifact.ts';
import { kubeCall } from './client.ts';

/** What a follow of a pod's log asks the API for. */
export interface PodLogFollow {
  namespace: string;
  pod: string;
  container?: string;
  tailLines: number;
  sinceSeconds?: number;
  previous: boolean;
}

/**
 * Follows a pod's log (`follow=true`, as `kubectl logs -f`): each line is streamed as a `log` event while it arrives,
 * until the container ends its log or the action is stopped (its timeout, a cancel); returns the line count and the
 * capped tail as the artifact.
 */
export async function followPodLog(
  config: KubeConfig,
  request: PodLogFollow,
  context: ActionContext,
): Promise<{ lines: number; artifact: Artifact }> {
  const { Log } = await import('@kubernetes/client-node');
  const tail = new TailArtifact(context.maxOutputBytes);
  let lines = 0;
  let partial = '';
  const take = (line: string) => {
    lines++;
    tail.push(`${line}\n`);
    context.emit?.({ type: 'log', stream: 'stdout', line });
  };
  let ended!: () => void;
  const finished = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) take(line);
      done();
    },
    final(done) {
      ended();
      done();
    },
  });
  sink.on('error', () => ended());
  // The client pipes the response body in without listening for its errors: an aborted or broken connection ends
  // the follow here instead of throwing out of the process.
  sink.on('pipe', (source) => source.on('error', () => ended()));
  // The client answers with its own AbortController once the response headers came; a stop before then aborts it
  // as soon as it is there.
  const pending = new Log(config).log(request.namespace, request.pod, request.container ?? '', sink, {
    follow: true,
    tailLines: request.tailLines,
    previous: request.previous,
    ...(request.sinceSeconds ? { sinceSeconds: request.sinceSeconds } : {}),
  });
  const stop = () => {
    pending.then((controller) => controller.abort()).catch(() => {});
    sink.destroy();
    ended();
  };
  context.signal.addEventListener('abort', stop, { once: true });
  try {
    await kubeCall(`pod ${request.namespace}/${request.pod}`, context.signal, () => pending);
    await finished;
  } catch (error) {
    // A follow that was stopped ends with what it gathered; one the API refused is that error.
    if (!context.signal.aborted) throw error;
  } finally {
    context.signal.removeEventListener('abort', stop);
  }
  if (partial !== '') take(partial);
  return { lines, artifact: tail.artifact() };
}
