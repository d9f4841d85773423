import { endsCutOffPrivateKey, REDACTED } from '../redact.ts';

// A private key's body line as PEM writes it: base64 in lines of 64 (OpenSSL) to 76 characters. Shorter ones (a
// key's last line) are held only after a long one, so that short words opening a log ("ready") are never held.
const LONG_BODY_LINE = /^[A-Za-z0-9+/]{40,80}={0,2}$/;
const SHORT_BODY_LINE = /^[A-Za-z0-9+/]{1,80}={0,2}$/;
// An encrypted key's headers, between its BEGIN line and its body.
const HEADER_LINE = /^(?:Proc-Type|DEK-Info): [^\n]{1,200}$/;
// A key longer than this many lines is none that a log's tail could cut (an 8192-bit RSA key has ~100).
const MAX_HELD_LINES = 256;

/**
 * The opening lines of one log stream that may be the body of a private key whose BEGIN line was cut off (a
 * `docker.logs` or `k8s.pod_logs` tail starting inside one): lines shaped like a key's body are held until the first
 * other line, and REDACTED when that line ends a key without a BEGIN, passed on unchanged otherwise. Only the run
 * that opens the stream is held; every later line passes at once.
 */
export class CutKeyHold {
  readonly #pass: (line: string) => void;
  #opening = true;
  #held: string[] = [];
  #long = false;

  /** Lines go on to `pass`, in order. */
  constructor(pass: (line: string) => void) {
    this.#pass = pass;
  }

  /** Takes the stream's next line. */
  push(line: string): void {
    if (this.#opening && this.#held.length < MAX_HELD_LINES && this.#mayBeBody(line)) {
      this.#held.push(line);
      return;
    }
    this.#release(this.#opening && this.#held.length > 0 && endsCutOffPrivateKey(line));
    this.#pass(line);
  }

  /** Passes on what is held (the stream ended): no END followed, so it was no key's body. */
  flush(): void {
    this.#release(false);
  }

  #mayBeBody(line: string): boolean {
    if (LONG_BODY_LINE.test(line)) {
      this.#long = true;
      return true;
    }
    return (this.#long && SHORT_BODY_LINE.test(line)) || (this.#held.length === 0 && HEADER_LINE.test(line));
  }

  #release(cutKey: boolean): void {
    this.#opening = false;
    const held = this.#held;
    this.#held = [];
    for (const line of held) this.#pass(cutKey ? REDACTED : line);
  }
}
