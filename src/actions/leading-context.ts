import { continuesSecrets, type OpenSecrets, secretsAfter } from '../model/secret-lines.ts';
import type { LinePart } from './line-assembler.ts';

/**
 * The lines a source's tail was asked for above its output (SOURCE_CONTEXT_LINES), read in order, each stream's
 * apart, for what they open, and then which first lines of the output are the values they opened (or the other
 * stream's lines while one waits): those a followed log must not stream, as TailArtifact.leaveOutFirstLines leaves
 * them out of the artifact. A line that comes in pieces is judged by its start (its tag and indentation) and its end
 * (a key), as TailArtifact judges it.
 */
export class LeadingContext {
  #open: OpenSecrets;
  // Per tag, the line in pieces: its start and end so far, and (for an output line) whether it is left out.
  readonly #inParts = new Map<string, { start: string; end: string; hidden: boolean }>();

  /** Reads a line of the context (or a `part` of one), for what it opens. */
  context(line: string, part: LinePart = 'whole', tag = ''): void {
    const whole = this.#whole(line, part, tag, false);
    if (whole !== undefined) this.#open = secretsAfter(this.#open, whole);
  }

  /**
   * Whether a line of the output (or a `part` of one) goes with what the context opened, and so is left out. The
   * first line that does not ends it: no line after it is.
   */
  hides(line: string, part: LinePart = 'whole', tag = ''): boolean {
    if (part === 'middle' || part === 'last') {
      const hidden = this.#inParts.get(tag)?.hidden ?? false;
      const whole = this.#whole(line, part, tag, hidden);
      if (whole !== undefined && hidden) this.#open = secretsAfter(this.#open, whole);
      return hidden;
    }
    const text = `${tag}${line}`;
    const hidden = continuesSecrets(this.#open, text.slice(0, 256));
    if (!hidden) this.#open = undefined;
    if (part === 'first')
      this.#inParts.set(tag, { start: text.slice(0, 256), end: line.slice(-256), hidden });
    else if (hidden) this.#open = secretsAfter(this.#open, text);
    return hidden;
  }

  // The line a piece belongs to, once its last piece came (its start and end joined), or the line itself; undefined
  // while pieces of it are still to come.
  #whole(line: string, part: LinePart, tag: string, hidden: boolean): string | undefined {
    if (part === 'whole') return `${tag}${line}`;
    const before = part === 'first' ? undefined : this.#inParts.get(tag);
    const start = before?.start ?? `${tag}${line}`.slice(0, 256);
    const end = ((before?.end ?? '') + line).slice(-256);
    if (part === 'last') {
      this.#inParts.delete(tag);
      return start + end;
    }
    this.#inParts.set(tag, { start, end, hidden });
    return undefined;
  }
}
