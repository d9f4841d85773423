import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node';
import { DvmError } from '../../../errors/dvm-error.ts';
import type { ActionContext, Artifact } from '../../action.ts';
import { TailArtifact } from '../../artifact.ts';
import { LeadingContext } from '../../leading-context.ts';
import { LineAssembler, maxLineCharsFor } from '../../line-assembler.ts';
import { kubeCall } from './client.ts';

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
  let ended!: () => void;
  let broken: Error | undefined;
  const finished = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      push(decoder.write(chunk));
      done();
    },
    final(done) {
      push(decoder.end());
      ended();
      done();
    },
  });
  const fail = (error: Error) => {
    broken ??= error;
    ended();
  };
  sink.on('error', fail);
  // The client pipes the response body in without listening for its errors: a connection that breaks ends the
  // follow with that error here instead of throwing out of the process.
  sink.on('pipe', (source) => source.on('error', fail));
  // The client drops tailLines=0: "no past lines" is asked as "since now", by the agent's clock (a node whose clock
  // runs behind it may leave out the lines of that difference).
  const pending = new Log(config).log(request.namespace, request.pod, request.container ?? '', sink, {
    follow: true,
    previous: request.previous,
    ...(request.tailLines === 0
      ? { sinceTime: new Date().toISOString() }
      : {
          ...(request.tailLines === undefined ? {} : { tailLines: request.tailLines }),
          ...(request.sinceSeconds ? { sinceSeconds: request.sinceSeconds } : {}),
        }),
  });
  // The client answers with its own AbortController once the response headers came; a stop before then aborts it
  // as soon as it is there.
  const stop = () => {
    pending.then((controller) => controller.abort()).catch(() => {});
    sink.destroy();
    ended();
  };
  context.signal.addEventListener('abort', stop, { once: true });
  if (context.signal.aborted) stop();
  try {
    await kubeCall(`pod ${request.namespace}/${request.pod}`, context.signal, () => pending);
    await finished;
  } catch (error) {
    // A follow that was stopped ends with what it gathered; one the API refused is that error.
    if (!context.signal.aborted) throw error;
  } finally {
    context.signal.removeEventListener('abort', stop);
  }
  if (broken && !context.signal.aborted) {
    throw new DvmError(
      'DVM_CONNECTOR_UNAVAILABLE',
      `the log of pod ${request.namespace}/${request.pod} broke off after ${lines} line(s): ${broken.message}`,
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
