import { isKeyBodyLine } from '../../model/secret-lines.ts';
import { opensWithPrivateKeyEnd, REDACTED } from '../redact.ts';

// A key longer than this many lines is none that a log's tail could cut (an 8192-bit RSA key has ~100).
const MAX_HELD_LINES = 256;

/** How long the opening lines of a log are held at most: a tail's lines (key and END alike) arrive together. */
export const CUT_KEY_HOLD_MS = 500;

/** One line of an execution's log: its stream and text. */
export interface HeldLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

/**
 * The opening lines of an execution's log that may be the body of a private key whose BEGIN line was cut off (a
 * `docker.logs` or `k8s.pod_logs` tail starting inside one): while every line so far, of either stream, is shaped
 * like a key's body (base64, armor headers and checksum, after a tag, timestamp or indentation), the lines are held,
 * in order; the first other line decides. An END marker opening it passes them on REDACTED, anything else unchanged,
 * as does the end of the log or CUT_KEY_HOLD_MS. Only the run that opens the log is held; every later line passes
 * at once.
 */
export class CutKeyHold {
  readonly #pass: (held: HeldLine) => void;
  readonly #holdMs: number;
  #opening = true;
  #held: HeldLine[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** Lines go on to `pass`, in the order they came. */
  constructor(pass: (held: HeldLine) => void, holdMs = CUT_KEY_HOLD_MS) {
    this.#pass = pass;
    this.#holdMs = holdMs;
  }

  /** Takes the log's next line. */
  push(stream: HeldLine['stream'], line: string): void {
    if (this.#opening && this.#held.length < MAX_HELD_LINES && isKeyBodyLine(line)) {
      this.#held.push({ stream, line });
      this.#timer ??= setTimeout(() => this.#release(false), this.#holdMs).unref();
      return;
    }
    this.#release(this.#held.length > 0 && opensWithPrivateKeyEnd(line));
    this.#pass({ stream, line });
  }

  /** Passes on what is held (the log ended): no END followed, so it was no key's body. */
  flush(): void {
    this.#release(false);
  }

  #release(cutKey: boolean): void {
    this.#opening = false;
    clearTimeout(this.#timer);
    const held = this.#held;
    this.#held = [];
    for (const { stream, line } of held) this.#pass({ stream, line: cutKey ? REDACTED : line });
  }
}
