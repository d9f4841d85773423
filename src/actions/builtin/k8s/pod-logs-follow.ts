import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Dispatcher } from 'undici';
import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionContext, Artifact } from '../../action.ts';
import { TailArtifact } from '../../artifact.ts';
import { LeadingContext } from '../../leading-context.ts';
import { LineAssembler, maxLineCharsFor } from '../../line-assembler.ts';
import { apiFailure, kubeError, kubeErrorLine } from './client.ts';

/** What a follow of a pod's log asks the API for. */
export interface PodLogFollow {
  namespace: string;
  pod: string;
  container?: string;
  /** Lines from the end to start with; none: every line (since sinceSeconds, when given). */
  tailLines?: number;
  sinceSeconds?: number;
  previous: boolean;
  /**
   * So many first lines are above the tail (asked for with it: SOURCE_CONTEXT_LINES), read only for what they open
   * (a secret's value below its key): neither shown, streamed nor counted.
   */
  contextLines?: number;
  /**
   * The dispatcher the request goes through (under the body timeout below); default the one the kubeconfig's TLS and
   * proxy settings give, else undici's global one.
   */
  dispatcher?: Dispatcher;
  /**
   * Milliseconds without a byte after which the connection is given up (undici's bodyTimeout); 0, the default: never,
   * as `kubectl logs -f` waits on a quiet pod; the follow ends by its own timeout or a cancel.
   */
  idleTimeoutMs?: number;
}

/** Bytes of a refused follow's answer read at most (its Status; the rest is left unread). */
export const FOLLOW_ERROR_BODY_MAX = 64 * 1024;

/** The fix of a log request the API refused as asked (a container it does not have, no previous log, …). */
export function podLogRefusedFix(namespace: string, pod: string): string {
  return `Change what the API's message names: container (kubectl describe pod -n ${namespace} ${pod} shows the pod's containers and their state), or previous for a container that has not restarted.`;
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
  const tail = new TailArtifact(context.maxOutputBytes);
  let lines = 0;
  // Bytes to text across chunks: a character split between two chunks is decoded whole; text to whole lines, a line
  // held whole up to just past the output cap (log events end there, so no piece of a longer one is streamed).
  const decoder = new StringDecoder('utf8');
  // The lines above the tail still to come (a line's pieces count once, at its end), and the value they opened.
  let contextLeft = request.contextLines ?? 0;
  const before = new LeadingContext();
  const assembler = new LineAssembler<'stdout'>((_stream, line, part) => {
    const aboveTail = contextLeft > 0;
    if (aboveTail) {
      before.context(line, part);
      if (part === 'whole' || part === 'last') contextLeft--;
    } else lines++;
    const hidden = aboveTail || before.hides(line, part);
    // Whole lines only: a piece of a line longer than the cap leaves that line out (no secret cut in two).
    tail.push(line, part);
    context.emit?.({ type: 'log', stream: 'stdout', line, ...(hidden ? { context: true } : {}) });
  }, maxLineCharsFor(context.maxOutputBytes));
  const push = (text: string) => assembler.write('stdout', text);
  let broken: Error | undefined;
  try {
    const body = await openFollow(config, request, context.signal);
    try {
      for await (const chunk of body) push(decoder.write(Buffer.from(chunk)));
      push(decoder.end());
    } catch (error) {
      // A follow that was stopped ends with what it gathered; a connection that broke is an error below.
      if (!context.signal.aborted) broken = error as Error;
    }
  } catch (error) {
    // Stopped before the answer came: nothing gathered. One the API refused is that error.
    if (!context.signal.aborted) {
      throw kubeError(
        `pod ${request.namespace}/${request.pod}`,
        error,
        podLogRefusedFix(request.namespace, request.pod),
      );
    }
  }
  if (broken && !context.signal.aborted) {
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `the log of pod ${request.namespace}/${request.pod} broke off after ${lines} line(s): ${kubeErrorLine(broken)}`,
      {
        fix: 'Follow it again (--param tail=… to see the lines since); check the API server if it keeps happening.',
        details: { origin: 'system', lines },
      },
    );
  }
  assembler.flush();
  tail.leaveOutFirstLines(request.contextLines ?? 0);
  return { lines, artifact: tail.artifact() };
}

/**
 * `dispatcher` with every request's body timeout set to `ms` (0: none). undici's Agent, under the client's and the
 * global one alike, ends a body that sends nothing for 300 s ("terminated"): right for an answer, wrong for a follow.
 */
export function withBodyTimeout(dispatcher: Dispatcher, ms: number): Dispatcher {
  return dispatcher.compose(
    (dispatch) => (options, handler) => dispatch({ ...options, bodyTimeout: ms }, handler),
  );
}

// Asks the API for the followed log (as the client's Log does, with the kubeconfig's credentials and TLS settings,
// but with no body timeout and `signal` closing the connection) and answers its body once the status is 200.
async function openFollow(
  config: KubeConfig,
  request: PodLogFollow,
  signal: AbortSignal,
): Promise<AsyncIterable<Uint8Array>> {
  const { HttpMethod, RequestContext } = await import('@kubernetes/client-node');
  const { fetch, getGlobalDispatcher } = await import('undici');
  const server = config.getCurrentCluster()?.server ?? '';
  const url = new URL(
    `${server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(request.namespace)}/pods/${encodeURIComponent(request.pod)}/log`,
  );
  const query = url.searchParams;
  query.set('follow', 'true');
  if (request.container) query.set('container', request.container);
  query.set('previous', String(request.previous));
  // "No past lines" (tailLines=0) is asked as "since now", by the agent's clock (a node whose clock runs behind it
  // may leave out the lines of that difference), as the client drops tailLines=0.
  if (request.tailLines === 0) query.set('sinceTime', new Date().toISOString());
  else {
    if (request.tailLines !== undefined) query.set('tailLines', String(request.tailLines));
    if (request.sinceSeconds) query.set('sinceSeconds', String(request.sinceSeconds));
  }
  const context = new RequestContext(url.toString(), HttpMethod.GET);
  await config.applySecurityAuthentication(context);
  const response = await fetch(url, {
    headers: context.getHeaders(),
    dispatcher: withBodyTimeout(
      request.dispatcher ?? context.getDispatcher() ?? getGlobalDispatcher(),
      request.idleTimeoutMs ?? 0,
    ),
    signal,
  });
  if (response.status !== 200 || !response.body) {
    throw apiFailure(response.status, await readCapped(response.body, FOLLOW_ERROR_BODY_MAX));
  }
  return response.body;
}

// The first `max` bytes of a body as text (what a read that fails gave so far); the rest is not read: the connection
// is closed.
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
  } finally {
    reader.cancel().catch(() => {});
  }
  return new StringDecoder('utf8').end(Buffer.concat(chunks).subarray(0, max));
}
